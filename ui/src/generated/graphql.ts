export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Date with time (isoformat) */
  DateTime: { input: string; output: string; }
  /** The `JSON` scalar type represents JSON values as specified by [ECMA-404](https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf). */
  JSON: { input: unknown; output: any; }
};

/** What addRecords did; every record given is counted once. */
export type AddRecordsPayload = {
  created: Scalars['Int']['output'];
  errors: Array<RecordError>;
  /** Records not written; each has an entry in errors. */
  refused: Scalars['Int']['output'];
  /** Responses written from the records' responses (those already stored as given are left alone). */
  responses: Scalars['Int']['output'];
  /** Records named by externalId whose fields, metadata and suggestions were already as given. */
  unchanged: Scalars['Int']['output'];
  updated: Scalars['Int']['output'];
};

export type AgreementLevel =
  | 'INTERVAL'
  | 'NOMINAL'
  | 'NONE'
  | 'ORDINAL'
  | 'RANKING';

export type AgreementReport = {
  /** Krippendorff's alpha; null when undefined. */
  alpha: Maybe<Scalars['Float']['output']>;
  annotators: Array<AnnotatorAgreement>;
  level: AgreementLevel;
  /** Pairs of answers compared. */
  pairs: Scalars['Int']['output'];
  question: Scalars['String']['output'];
  /** Records with at least two submitted answers. */
  records: Scalars['Int']['output'];
};

export type AnnotatorAgreement = {
  /** Share of this labeler's coded answers equal to the majority of their record (records without a majority are left out). */
  agreementWithMajority: Maybe<Scalars['Float']['output']>;
  answers: Scalars['Int']['output'];
  userId: Scalars['ID']['output'];
};

export type AnnotatorProgress = {
  /** Pending records this user has not answered yet. */
  available: Scalars['Int']['output'];
  discarded: Scalars['Int']['output'];
  draft: Scalars['Int']['output'];
  submitted: Scalars['Int']['output'];
  userId: Scalars['ID']['output'];
  username: Scalars['String']['output'];
};

/** How a chat field is shown. */
export type ChatFieldSettings = FieldSettings & {
  kind: Scalars['String']['output'];
  useMarkdown: Scalars['Boolean']['output'];
};

/** How a chat field is shown. */
export type ChatFieldSettingsInput = {
  useMarkdown?: InputMaybe<Scalars['Boolean']['input']>;
};

export type CreateDatasetInput = {
  allowExtraMetadata?: Scalars['Boolean']['input'];
  distribution?: InputMaybe<DistributionInput>;
  fields?: Array<FieldInput>;
  guidelines?: InputMaybe<Scalars['String']['input']>;
  metadataProperties?: Array<MetadataPropertyInput>;
  name: Scalars['String']['input'];
  questions?: Array<QuestionInput>;
  workspaceId: Scalars['ID']['input'];
};

export type CreateUserInput = {
  role: Role;
  username: Scalars['String']['input'];
  workspaceIds?: Array<Scalars['ID']['input']>;
};

/** An HTML template; `{{ name }}` is replaced by the record's value `name` (escaped). */
export type CustomFieldSettings = FieldSettings & {
  kind: Scalars['String']['output'];
  template: Scalars['String']['output'];
};

/** An HTML template; `{{ name }}` is replaced by the record's value `name` (escaped). */
export type CustomFieldSettingsInput = {
  template: Scalars['String']['input'];
};

export type Dataset = {
  allowExtraMetadata: Scalars['Boolean']['output'];
  createdAt: Scalars['DateTime']['output'];
  distribution: Distribution;
  fields: Array<Field>;
  guidelines: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** For annotators, without the properties hidden from them. */
  metadataProperties: Array<MetadataProperty>;
  /** Your own answers to the dataset and what is left for you. */
  myProgress: AnnotatorProgress;
  name: Scalars['String']['output'];
  /** Its fields and questions that cannot be used now (their plugin is not installed, or cannot read what is stored), and why; empty when all can. */
  problems: Array<DatasetProblem>;
  /** The dataset's progress (read from its counters: cheap on a list of datasets). */
  progress: DatasetProgress;
  questions: Array<Question>;
  /** The dataset's records, a page at a time (first <= 1000). */
  records: RecordConnection;
  status: DatasetStatus;
  updatedAt: Scalars['DateTime']['output'];
  workspace: Workspace;
};


export type DatasetRecordsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<RecordFilter>;
  first?: Scalars['Int']['input'];
  sort?: InputMaybe<RecordSort>;
};

/** A field or question of the dataset that cannot be used now, and why. */
export type DatasetProblem = {
  /** True for a required question: no one can answer the records, so nextRecords hands out none (PLUGIN_UNAVAILABLE) until its kind is available again. */
  blocksLabeling: Scalars['Boolean']['output'];
  /** `field` or `question`. */
  family: Scalars['String']['output'];
  /** The field's or question's name. */
  item: Scalars['String']['output'];
  kind: Scalars['String']['output'];
  /** The plugin that stored the item. */
  plugin: Scalars['String']['output'];
  reason: Scalars['String']['output'];
  required: Scalars['Boolean']['output'];
  /** The plugin version that stored it. */
  storedVersion: Maybe<Scalars['String']['output']>;
};

export type DatasetProgress = {
  completed: Scalars['Int']['output'];
  datasetId: Scalars['ID']['output'];
  minSubmitted: Scalars['Int']['output'];
  /** Submitted responses beyond minSubmitted, summed over records. */
  overAnnotation: Scalars['Int']['output'];
  pending: Scalars['Int']['output'];
  responses: ResponseCounts;
  total: Scalars['Int']['output'];
};

export type DatasetStatus =
  | 'DRAFT'
  | 'READY';

export type DeleteRecordsPayload = {
  deleted: Scalars['Int']['output'];
  ids: Array<Scalars['ID']['output']>;
};

export type Distribution = {
  minSubmitted: Scalars['Int']['output'];
};

export type DistributionInput = {
  minSubmitted: Scalars['Int']['input'];
};

export type Field = {
  /** False when the kind's plugin is not installed or cannot read the stored settings. */
  available: Scalars['Boolean']['output'];
  kind: Scalars['String']['output'];
  name: Scalars['String']['output'];
  required: Scalars['Boolean']['output'];
  settings: FieldSettings;
  /** The settings as JSON, for clients that do not know the kind (widgets, the SDK): as the installed plugin reads them (migrated from the version that stored them), or as stored when it cannot read them (available: false). */
  settingsJson: Scalars['JSON']['output'];
  title: Scalars['String']['output'];
};

export type FieldInput = {
  name: Scalars['String']['input'];
  required?: Scalars['Boolean']['input'];
  settings: FieldSettingsInput;
  title?: InputMaybe<Scalars['String']['input']>;
};

/** A field's settings: one implementation per installed field kind. */
export type FieldSettings = {
  /** The field kind these settings belong to. */
  kind: Scalars['String']['output'];
};

/** Exactly one member: the kind of the FieldSettings. */
export type FieldSettingsInput =
  { chat: ChatFieldSettingsInput; custom?: never; image?: never; text?: never; }
  |  { chat?: never; custom: CustomFieldSettingsInput; image?: never; text?: never; }
  |  { chat?: never; custom?: never; image: ImageFieldSettingsInput; text?: never; }
  |  { chat?: never; custom?: never; image?: never; text: TextFieldSettingsInput; };

/** An installed field kind. */
export type FieldType = {
  description: Scalars['String']['output'];
  name: Scalars['String']['output'];
  plugin: Scalars['String']['output'];
  settingsSchema: Scalars['JSON']['output'];
  /** Hints the kind gives user interfaces ({} when none). */
  uiHints: Scalars['JSON']['output'];
  valueSchema: Scalars['JSON']['output'];
  /** The version of the plugin's distribution; null for a plugin registered in-process without one. */
  version: Maybe<Scalars['String']['output']>;
  /** Same-origin URL of the kind's own JavaScript widget module (null when it has none). */
  widgetUrl: Maybe<Scalars['String']['output']>;
};

/** This kind has no settings. */
export type ImageFieldSettings = FieldSettings & {
  kind: Scalars['String']['output'];
};

/** This kind has no settings. */
export type ImageFieldSettingsInput = {
  /** Leave out (send `{}`): this kind has no settings. */
  empty?: InputMaybe<Scalars['Boolean']['input']>;
};

/** One choice of a label, multi-label or ranking question. */
export type LabelOption = {
  /** What labelers see. */
  text: Scalars['String']['output'];
  /** What is stored when this option is chosen. */
  value: Scalars['String']['output'];
};

/** One choice of a label, multi-label or ranking question. */
export type LabelOptionInput = {
  /** What labelers see. */
  text: Scalars['String']['input'];
  /** What is stored when this option is chosen. */
  value: Scalars['String']['input'];
};

/** 2 to 500 options with unique values. */
export type LabelQuestionSettings = QuestionSettings & {
  kind: Scalars['String']['output'];
  options: Array<LabelOption>;
};

/** 2 to 500 options with unique values. */
export type LabelQuestionSettingsInput = {
  options: Array<LabelOptionInput>;
};

/** An answer to a label question. */
export type LabelValue = Value & {
  kind: Scalars['String']['output'];
  label: Scalars['String']['output'];
};

/** Metadata `name` is one of `values` and/or within [ge, le]. */
export type MetadataFilter = {
  ge?: InputMaybe<Scalars['Float']['input']>;
  le?: InputMaybe<Scalars['Float']['input']>;
  name: Scalars['String']['input'];
  values?: InputMaybe<Array<Scalars['JSON']['input']>>;
};

export type MetadataProperty = {
  kind: MetadataPropertyKind;
  max: Maybe<Scalars['Float']['output']>;
  min: Maybe<Scalars['Float']['output']>;
  name: Scalars['String']['output'];
  title: Scalars['String']['output'];
  values: Maybe<Array<Scalars['String']['output']>>;
  visibleForAnnotators: Scalars['Boolean']['output'];
};

export type MetadataPropertyInput = {
  kind: MetadataPropertyKind;
  max?: InputMaybe<Scalars['Float']['input']>;
  min?: InputMaybe<Scalars['Float']['input']>;
  name: Scalars['String']['input'];
  title?: InputMaybe<Scalars['String']['input']>;
  /** TERMS only: the allowed terms (any when omitted). */
  values?: InputMaybe<Array<Scalars['String']['input']>>;
  visibleForAnnotators?: Scalars['Boolean']['input'];
};

export type MetadataPropertyKind =
  | 'FLOAT'
  | 'INTEGER'
  | 'TERMS';

/** 2 to 500 options with unique values. */
export type MultiLabelQuestionSettings = QuestionSettings & {
  kind: Scalars['String']['output'];
  options: Array<LabelOption>;
};

/** 2 to 500 options with unique values. */
export type MultiLabelQuestionSettingsInput = {
  options: Array<LabelOptionInput>;
};

/** An answer to a multiLabel question. */
export type MultiLabelValue = Value & {
  kind: Scalars['String']['output'];
  multiLabel: Array<Scalars['String']['output']>;
};

export type Mutation = {
  /** Add a field to a draft dataset. */
  addField: Dataset;
  /** Add a question to a draft dataset. */
  addQuestion: Dataset;
  /** Add or update (by externalId) up to 1,000 records, with their responses if any. A re-add that changes the fields of a record that has responses is refused for that record unless onConflict says otherwise. */
  addRecords: AddRecordsPayload;
  /** Add a vector space to a dataset (draft or published). */
  addVectorSpace: Array<VectorSpace>;
  addWorkspaceMember: User;
  createDataset: Dataset;
  /** Create a user; the API key is returned only here. */
  createUser: UserWithApiKey;
  /** Owners only. */
  createWorkspace: Workspace;
  /** Delete a dataset with its records and responses. */
  deleteDataset: Scalars['ID']['output'];
  deleteRecords: DeleteRecordsPayload;
  /** Delete your response to a record. */
  deleteResponse: Scalars['ID']['output'];
  /** Owners only. The user's responses are kept. */
  deleteUser: Scalars['ID']['output'];
  /** Owners only; refused while the workspace holds datasets. */
  deleteWorkspace: Scalars['ID']['output'];
  /** Up to `first` pending records you have not answered, leased to you: nobody else gets a record beyond the answers it still needs until you submit, discard or the lease ends. Records you hold already come first. With `near` (a record id), the pending records nearest that record in the vector `space` come first (docs/vectors.md). */
  nextRecords: Array<Record>;
  /** Freeze fields and questions; records can then be added. */
  publishDataset: Dataset;
  /** Give back your lease on a record: others may get it from nextRecords at once. With skipMinutes (1-1440) you skip it: nextRecords offers it to you only when nothing else is open to you, for that long. True when something changed. */
  releaseRecord: Scalars['Boolean']['output'];
  /** Remove a vector space and every vector records have in it. */
  removeVectorSpace: Array<VectorSpace>;
  removeWorkspaceMember: User;
  /** A new API key (your own; owners: anyone's). The old key stops working at once. */
  rotateApiKey: UserWithApiKey;
  /** Set records' vectors (up to 1,000 records) without touching their fields or answers; an entry with a wrong dimension, NaN or infinity is refused alone. */
  setRecordVectors: SetVectorsPayload;
  /** Create or replace your response to a record. */
  submitResponse: Response;
  /** Several responses (up to 1,000); all are checked before any is written. An error names its input (extensions.input) and how many inputs before it were written (extensions.written). */
  submitResponses: Array<Response>;
  updateDataset: Dataset;
};


export type MutationAddFieldArgs = {
  datasetId: Scalars['ID']['input'];
  field: FieldInput;
};


export type MutationAddQuestionArgs = {
  datasetId: Scalars['ID']['input'];
  question: QuestionInput;
};


export type MutationAddRecordsArgs = {
  datasetId: Scalars['ID']['input'];
  onConflict?: RecordConflictPolicy;
  records: Array<RecordInput>;
};


export type MutationAddVectorSpaceArgs = {
  datasetId: Scalars['ID']['input'];
  space: VectorSpaceInput;
};


export type MutationAddWorkspaceMemberArgs = {
  userId: Scalars['ID']['input'];
  workspaceId: Scalars['ID']['input'];
};


export type MutationCreateDatasetArgs = {
  input: CreateDatasetInput;
};


export type MutationCreateUserArgs = {
  input: CreateUserInput;
};


export type MutationCreateWorkspaceArgs = {
  name: Scalars['String']['input'];
};


export type MutationDeleteDatasetArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteRecordsArgs = {
  datasetId: Scalars['ID']['input'];
  ids: Array<Scalars['ID']['input']>;
};


export type MutationDeleteResponseArgs = {
  recordId: Scalars['ID']['input'];
};


export type MutationDeleteUserArgs = {
  id: Scalars['ID']['input'];
};


export type MutationDeleteWorkspaceArgs = {
  id: Scalars['ID']['input'];
};


export type MutationNextRecordsArgs = {
  datasetId: Scalars['ID']['input'];
  first?: Scalars['Int']['input'];
  near?: InputMaybe<Scalars['ID']['input']>;
  space?: InputMaybe<Scalars['String']['input']>;
};


export type MutationPublishDatasetArgs = {
  id: Scalars['ID']['input'];
};


export type MutationReleaseRecordArgs = {
  recordId: Scalars['ID']['input'];
  skipMinutes?: InputMaybe<Scalars['Int']['input']>;
};


export type MutationRemoveVectorSpaceArgs = {
  datasetId: Scalars['ID']['input'];
  name: Scalars['String']['input'];
};


export type MutationRemoveWorkspaceMemberArgs = {
  userId: Scalars['ID']['input'];
  workspaceId: Scalars['ID']['input'];
};


export type MutationRotateApiKeyArgs = {
  userId: Scalars['ID']['input'];
};


export type MutationSetRecordVectorsArgs = {
  datasetId: Scalars['ID']['input'];
  records: Array<RecordVectorsInput>;
};


export type MutationSubmitResponseArgs = {
  input: ResponseInput;
};


export type MutationSubmitResponsesArgs = {
  inputs: Array<ResponseInput>;
};


export type MutationUpdateDatasetArgs = {
  id: Scalars['ID']['input'];
  input: UpdateDatasetInput;
};

export type NearDuplicatePair = {
  first: Record;
  score: Scalars['Float']['output'];
  second: Record;
};

/** A page of near-duplicate pairs; it may hold fewer than asked and still have a next page. */
export type NearDuplicates = {
  endCursor: Maybe<Scalars['String']['output']>;
  exact: Scalars['Boolean']['output'];
  hasNextPage: Scalars['Boolean']['output'];
  pairs: Array<NearDuplicatePair>;
};

/** Search near a record's own vector in the space, or near a vector. */
export type NearInput =
  { recordId: Scalars['ID']['input']; vector?: never; }
  |  { recordId?: never; vector: Array<Scalars['Float']['input']>; };

export type PageInfo = {
  endCursor: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

export type Query = {
  /** Krippendorff's alpha for a question (owners and admins). */
  agreement: AgreementReport;
  /** Per labeler; annotators see only themselves. */
  annotatorProgress: Array<AnnotatorProgress>;
  dataset: Dataset;
  datasetProgress: DatasetProgress;
  datasets: Array<Dataset>;
  fieldTypes: Array<FieldType>;
  /** The calling user. */
  me: User;
  /** Records you saved as drafts, a page at a time. */
  myDrafts: RecordConnection;
  /** Pairs of records whose similarity is at least `threshold` (for L2 spaces: whose distance is at most `threshold`), each pair once, a page at a time. Owners and admins. */
  nearDuplicates: NearDuplicates;
  questionTypes: Array<QuestionType>;
  record: Record;
  /** Records of a dataset, a page at a time (first <= 1000). */
  records: RecordConnection;
  /** Records nearest a record or a vector in a space; the filter applies before the top-`first` is chosen, so `first` results come back whenever that many records match. */
  similarRecords: SimilarRecords;
  /** Training rows for small pulls; the HTTP export streams any size. */
  trainingData: TrainingData;
  trainingTasks: Array<TrainingTaskType>;
  /** One record's submitted answers to a question combined by a strategy of its kind (owners and admins). */
  unifiedAnswer: UnifiedAnswer;
  /** Each record's submitted answers to a question combined by a strategy of its kind (owners and admins). */
  unifiedAnswers: UnifiedAnswerConnection;
  /** Owners: every user; admins: members of their workspaces. */
  users: Array<User>;
  vectorSpaces: Array<VectorSpace>;
  /** The workspaces you belong to (owners: all). */
  workspaces: Array<Workspace>;
};


export type QueryAgreementArgs = {
  datasetId: Scalars['ID']['input'];
  question: Scalars['String']['input'];
};


export type QueryAnnotatorProgressArgs = {
  datasetId: Scalars['ID']['input'];
};


export type QueryDatasetArgs = {
  id: Scalars['ID']['input'];
};


export type QueryDatasetProgressArgs = {
  datasetId: Scalars['ID']['input'];
};


export type QueryDatasetsArgs = {
  workspaceId: Scalars['ID']['input'];
};


export type QueryMyDraftsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datasetId: Scalars['ID']['input'];
  first?: Scalars['Int']['input'];
};


export type QueryNearDuplicatesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datasetId: Scalars['ID']['input'];
  first?: Scalars['Int']['input'];
  space: Scalars['String']['input'];
  threshold: Scalars['Float']['input'];
};


export type QueryRecordArgs = {
  id: Scalars['ID']['input'];
};


export type QueryRecordsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datasetId: Scalars['ID']['input'];
  filter?: InputMaybe<RecordFilter>;
  first?: Scalars['Int']['input'];
  sort?: InputMaybe<RecordSort>;
};


export type QuerySimilarRecordsArgs = {
  datasetId: Scalars['ID']['input'];
  filter?: InputMaybe<RecordFilter>;
  first?: Scalars['Int']['input'];
  near: NearInput;
  order?: SimilarityOrder;
  space: Scalars['String']['input'];
};


export type QueryTrainingDataArgs = {
  datasetId: Scalars['ID']['input'];
  filter?: InputMaybe<TrainingFilter>;
  first?: Scalars['Int']['input'];
  options?: InputMaybe<TrainingOptionsInput>;
  task: Scalars['String']['input'];
};


export type QueryUnifiedAnswerArgs = {
  question: Scalars['String']['input'];
  recordId: Scalars['ID']['input'];
  strategy?: InputMaybe<Scalars['String']['input']>;
};


export type QueryUnifiedAnswersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  datasetId: Scalars['ID']['input'];
  filter?: InputMaybe<TrainingFilter>;
  first?: Scalars['Int']['input'];
  question: Scalars['String']['input'];
  strategy?: InputMaybe<Scalars['String']['input']>;
};


export type QueryVectorSpacesArgs = {
  datasetId: Scalars['ID']['input'];
};

export type Question = {
  /** A JSON Schema of this question's answers (the ValueInput member of its kind), with its settings applied: e.g. an enum of its options. Null when the kind is unavailable. */
  answerSchema: Maybe<Scalars['JSON']['output']>;
  /** False when the kind's plugin is not installed or cannot read the stored settings: it is then read-only, and answers to it are kept. */
  available: Scalars['Boolean']['output'];
  description: Maybe<Scalars['String']['output']>;
  kind: Scalars['String']['output'];
  name: Scalars['String']['output'];
  required: Scalars['Boolean']['output'];
  settings: QuestionSettings;
  /** The settings as JSON, for clients that do not know the kind (widgets, the SDK): as the installed plugin reads them (migrated from the version that stored them), or as stored when it cannot read them (available: false). */
  settingsJson: Scalars['JSON']['output'];
  title: Scalars['String']['output'];
};

export type QuestionInput = {
  description?: InputMaybe<Scalars['String']['input']>;
  name: Scalars['String']['input'];
  required?: Scalars['Boolean']['input'];
  settings: QuestionSettingsInput;
  title?: InputMaybe<Scalars['String']['input']>;
};

/** A question's settings: one implementation per installed question kind. */
export type QuestionSettings = {
  /** The question kind these settings belong to. */
  kind: Scalars['String']['output'];
};

/** Exactly one member: the kind of the QuestionSettings. */
export type QuestionSettingsInput =
  { label: LabelQuestionSettingsInput; multiLabel?: never; ranking?: never; rating?: never; span?: never; text?: never; }
  |  { label?: never; multiLabel: MultiLabelQuestionSettingsInput; ranking?: never; rating?: never; span?: never; text?: never; }
  |  { label?: never; multiLabel?: never; ranking: RankingQuestionSettingsInput; rating?: never; span?: never; text?: never; }
  |  { label?: never; multiLabel?: never; ranking?: never; rating: RatingQuestionSettingsInput; span?: never; text?: never; }
  |  { label?: never; multiLabel?: never; ranking?: never; rating?: never; span: SpanQuestionSettingsInput; text?: never; }
  |  { label?: never; multiLabel?: never; ranking?: never; rating?: never; span?: never; text: TextQuestionSettingsInput; };

/** An installed question kind. */
export type QuestionType = {
  agreement: AgreementLevel;
  description: Scalars['String']['output'];
  name: Scalars['String']['output'];
  plugin: Scalars['String']['output'];
  settingsSchema: Scalars['JSON']['output'];
  strategies: Array<Scalars['String']['output']>;
  /** Hints the kind gives user interfaces ({} when none). */
  uiHints: Scalars['JSON']['output'];
  valueSchema: Scalars['JSON']['output'];
  /** The version of the plugin's distribution; null for a plugin registered in-process without one. */
  version: Maybe<Scalars['String']['output']>;
  /** Same-origin URL of the kind's own JavaScript widget module (null when it has none). */
  widgetUrl: Maybe<Scalars['String']['output']>;
};

/** The rank given to one option; equal ranks are ties. */
export type Rank = {
  rank: Scalars['Int']['output'];
  value: Scalars['String']['output'];
};

/** The rank given to one option; equal ranks are ties. */
export type RankInput = {
  rank: Scalars['Int']['input'];
  value: Scalars['String']['input'];
};

/** 2 to 50 options to rank. */
export type RankingQuestionSettings = QuestionSettings & {
  kind: Scalars['String']['output'];
  options: Array<LabelOption>;
};

/** 2 to 50 options to rank. */
export type RankingQuestionSettingsInput = {
  options: Array<LabelOptionInput>;
};

/** An answer to a ranking question. */
export type RankingValue = Value & {
  kind: Scalars['String']['output'];
  ranking: Array<Rank>;
};

/** The allowed ratings: 2 to 11 unique integers between 0 and 10. */
export type RatingQuestionSettings = QuestionSettings & {
  kind: Scalars['String']['output'];
  /** The ratings a labeler may give. */
  values: Array<Scalars['Int']['output']>;
};

/** The allowed ratings: 2 to 11 unique integers between 0 and 10. */
export type RatingQuestionSettingsInput = {
  /** The ratings a labeler may give. */
  values: Array<Scalars['Int']['input']>;
};

/** An answer to a rating question. */
export type RatingValue = Value & {
  kind: Scalars['String']['output'];
  rating: Scalars['Int']['output'];
};

export type Record = {
  createdAt: Scalars['DateTime']['output'];
  dataset: Dataset;
  externalId: Maybe<Scalars['String']['output']>;
  fields: Scalars['JSON']['output'];
  id: Scalars['ID']['output'];
  metadata: Scalars['JSON']['output'];
  /** When your lease on this record (from nextRecords) ends. */
  myLeaseExpiresAt: Maybe<Scalars['DateTime']['output']>;
  /** Why this record's content could not be read (its fields and suggestions are then empty); null when it was read. The rest of the page is unaffected. */
  readError: Maybe<Scalars['String']['output']>;
  /** All responses for owners and admins; annotators see their own. */
  responses: Array<Response>;
  status: RecordStatus;
  suggestions: Array<Suggestion>;
  updatedAt: Scalars['DateTime']['output'];
};

/** What a re-add (by externalId) does when it changes the fields of a record that has responses: REFUSE that record (the default; reported in errors with reason answered_record), KEEP_RESPONSES (replace the fields, keep the answers given to the old ones), or DISCARD_RESPONSES (delete the record's responses and add it again, with a new id). */
export type RecordConflictPolicy =
  | 'DISCARD_RESPONSES'
  | 'KEEP_RESPONSES'
  | 'REFUSE';

export type RecordConnection = {
  edges: Array<RecordEdge>;
  pageInfo: PageInfo;
  /** Records matching the filter, over all pages. */
  totalCount: Scalars['Int']['output'];
};

export type RecordEdge = {
  cursor: Scalars['String']['output'];
  node: Record;
};

/** A record that could not be added, by its index in the batch. */
export type RecordError = {
  code: Scalars['String']['output'];
  index: Scalars['Int']['output'];
  message: Scalars['String']['output'];
  /** For VALIDATION: every problem found in the record, each {message, path, reason, question} (path from the record input, in the schema's names). */
  problems: Array<Scalars['JSON']['output']>;
};

export type RecordFilter = {
  externalIds?: InputMaybe<Array<Scalars['String']['input']>>;
  metadata?: InputMaybe<Array<MetadataFilter>>;
  /** Records you have a response of one of these statuses to. */
  myResponseStatus?: InputMaybe<Array<ResponseStatus>>;
  /** Records having a response of one of these statuses by anyone (for annotators: by themselves, as myResponseStatus). */
  responseStatus?: InputMaybe<Array<ResponseStatus>>;
  status?: InputMaybe<RecordStatus>;
  /** Words the record's field texts all contain: whole words, any case, any order (docs/queries.md). */
  text?: InputMaybe<Scalars['String']['input']>;
};

export type RecordInput = {
  externalId?: InputMaybe<Scalars['String']['input']>;
  fields: Scalars['JSON']['input'];
  /** Replaces a re-added record's metadata; null keeps it. */
  metadata?: InputMaybe<Scalars['JSON']['input']>;
  responses?: Array<RecordResponseInput>;
  /** A re-add replaces the suggestions of the questions it names and keeps the others. */
  suggestions?: Array<SuggestionInput>;
  /** Space name -> list of numbers, or the base64 of the vector's little-endian float32 bytes (a quarter of the size, far quicker to encode and read), one per vector space of the dataset (see addVectorSpace). */
  vectors?: InputMaybe<Scalars['JSON']['input']>;
};

/** An answer that comes with its record (a migration, a re-imported export): checked and counted like any answer. Owners and admins only, like adding records. */
export type RecordResponseInput = {
  status: ResponseStatus;
  /** The username of an existing user who can see the dataset. */
  user: Scalars['String']['input'];
  values?: Array<RecordResponseValueInput>;
};

export type RecordResponseValueInput = {
  question: Scalars['String']['input'];
  value: ValueInput;
};

export type RecordSort = {
  direction?: SortDirection;
  field?: RecordSortField;
  /** METADATA: the metadata property; SUGGESTION_SCORE: the question. Sorting by either reads every record the filter selects, so it is refused (QUERY_TOO_COSTLY) in datasets larger than the server's maxScanRecords (docs/queries.md). */
  name?: InputMaybe<Scalars['String']['input']>;
};

export type RecordSortField =
  | 'INSERTED_AT'
  /** The value of the metadata property named by `name`; records without one first (ASC) or last (DESC). */
  | 'METADATA'
  /** The score of the suggestion for the question named by `name`; records without one first (ASC) or last (DESC). */
  | 'SUGGESTION_SCORE'
  | 'UPDATED_AT';

export type RecordStatus =
  | 'COMPLETED'
  | 'PENDING';

export type RecordVectorsInput = {
  recordId: Scalars['ID']['input'];
  /** Space name -> list of numbers (or the base64 of little-endian float32 bytes); other spaces are kept. */
  vectors: Scalars['JSON']['input'];
};

export type Response = {
  createdAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  status: ResponseStatus;
  updatedAt: Scalars['DateTime']['output'];
  user: User;
  values: Array<ResponseValue>;
  version: Scalars['Int']['output'];
};

/** A response was written or deleted. */
export type ResponseChange = {
  at: Scalars['DateTime']['output'];
  datasetId: Scalars['ID']['output'];
  deleted: Scalars['Boolean']['output'];
  recordId: Scalars['ID']['output'];
  /** Null when the response was deleted. */
  status: Maybe<ResponseStatus>;
  userId: Scalars['ID']['output'];
  version: Scalars['Int']['output'];
};

/** Live responses by status. */
export type ResponseCounts = {
  discarded: Scalars['Int']['output'];
  draft: Scalars['Int']['output'];
  submitted: Scalars['Int']['output'];
};

export type ResponseInput = {
  /** Optimistic concurrency: the version you read (0: no response yet). */
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  recordId: Scalars['ID']['input'];
  status: ResponseStatus;
  values?: Array<ResponseValueInput>;
};

export type ResponseStatus =
  | 'DISCARDED'
  | 'DRAFT'
  | 'SUBMITTED';

export type ResponseValue = {
  /** The value as stored: for clients that do not know the kind. */
  json: Scalars['JSON']['output'];
  question: Scalars['String']['output'];
  value: Value;
};

export type ResponseValueInput = {
  question: Scalars['String']['input'];
  value: ValueInput;
};

export type Role =
  | 'ADMIN'
  | 'ANNOTATOR'
  | 'OWNER';

/** What setRecordVectors did; refused entries are listed by index. */
export type SetVectorsPayload = {
  errors: Array<RecordError>;
  refused: Scalars['Int']['output'];
  updated: Scalars['Int']['output'];
};

export type SimilarRecord = {
  record: Record;
  /** Cosine similarity or dot product (higher is nearer), or the L2 distance (lower is nearer). */
  score: Scalars['Float']['output'];
};

export type SimilarRecords = {
  /** True when every vector was compared; false for an approximate index. */
  exact: Scalars['Boolean']['output'];
  items: Array<SimilarRecord>;
  /** Vectors in the space when it was searched. */
  searched: Scalars['Int']['output'];
};

export type SimilarityOrder =
  | 'LEAST_SIMILAR'
  | 'MOST_SIMILAR';

export type SortDirection =
  | 'ASC'
  | 'DESC';

/** A labeled stretch of the text: characters from start (inclusive) to end (exclusive). */
export type Span = {
  end: Scalars['Int']['output'];
  label: Scalars['String']['output'];
  start: Scalars['Int']['output'];
};

/** A labeled stretch of the text: characters from start (inclusive) to end (exclusive). */
export type SpanInput = {
  end: Scalars['Int']['input'];
  label: Scalars['String']['input'];
  start: Scalars['Int']['input'];
};

/** Which text field is marked, and with which labels. */
export type SpanQuestionSettings = QuestionSettings & {
  allowOverlapping: Scalars['Boolean']['output'];
  /** The name of the text field whose spans are marked. */
  field: Scalars['String']['output'];
  kind: Scalars['String']['output'];
  labels: Array<LabelOption>;
};

/** Which text field is marked, and with which labels. */
export type SpanQuestionSettingsInput = {
  allowOverlapping?: InputMaybe<Scalars['Boolean']['input']>;
  /** The name of the text field whose spans are marked. */
  field: Scalars['String']['input'];
  labels: Array<LabelOptionInput>;
};

/** An answer to a span question. */
export type SpanValue = Value & {
  kind: Scalars['String']['output'];
  span: Array<Span>;
};

export type Subscription = {
  /** A progress snapshot now, then a new one whenever responses change (at most one per FEEDBACKQL_PROGRESS_INTERVAL_SECONDS). */
  datasetProgress: DatasetProgress;
  /** Responses written or deleted; annotators get only their own. Ends with `UNAVAILABLE` when events were dropped before you got them (you fell 1,000 events behind, or the database's change stream broke for longer than it keeps history): read again, then subscribe again. */
  responseChanges: ResponseChange;
};


export type SubscriptionDatasetProgressArgs = {
  datasetId: Scalars['ID']['input'];
};


export type SubscriptionResponseChangesArgs = {
  datasetId: Scalars['ID']['input'];
};

export type Suggestion = {
  agent: Maybe<Scalars['String']['output']>;
  /** The value as stored: for clients that do not know the kind. */
  json: Scalars['JSON']['output'];
  question: Scalars['String']['output'];
  score: Maybe<Scalars['Float']['output']>;
  value: Value;
};

export type SuggestionInput = {
  agent?: InputMaybe<Scalars['String']['input']>;
  question: Scalars['String']['input'];
  score?: InputMaybe<Scalars['Float']['input']>;
  value: ValueInput;
};

/** How a text field is shown. */
export type TextFieldSettings = FieldSettings & {
  kind: Scalars['String']['output'];
  useMarkdown: Scalars['Boolean']['output'];
};

/** How a text field is shown. */
export type TextFieldSettingsInput = {
  useMarkdown?: InputMaybe<Scalars['Boolean']['input']>;
};

/** How the answer box renders its text. */
export type TextQuestionSettings = QuestionSettings & {
  kind: Scalars['String']['output'];
  useMarkdown: Scalars['Boolean']['output'];
};

/** How the answer box renders its text. */
export type TextQuestionSettingsInput = {
  useMarkdown?: InputMaybe<Scalars['Boolean']['input']>;
};

/** An answer to a text question. */
export type TextValue = Value & {
  kind: Scalars['String']['output'];
  text: Scalars['String']['output'];
};

export type TrainingData = {
  /** Records read, rows given, ties, and records left out by the filter or the task's rules; over the whole dataset unless truncated. */
  counts: Scalars['JSON']['output'];
  rows: Array<Scalars['JSON']['output']>;
  rules: Scalars['JSON']['output'];
  /** Records whose unified answer is a tie (no row from them). */
  ties: Scalars['Int']['output'];
  /** More rows exist: use the HTTP export. */
  truncated: Scalars['Boolean']['output'];
};

/** Which records training data is made from. Defaults keep every record. */
export type TrainingFilter = {
  /** Only completed records. */
  completedOnly?: Scalars['Boolean']['input'];
  /** Every filter holds (values and/or ge/le). */
  metadata?: InputMaybe<Array<MetadataFilter>>;
  /** At least this share (0 to 1) of agreeing pairs of answers on the record; records with fewer than two answers are left out. Refused for kinds without agreement. */
  minAgreement?: InputMaybe<Scalars['Float']['input']>;
  /** At least this many submitted answers to the question. */
  minSubmitted?: InputMaybe<Scalars['Int']['input']>;
};

export type TrainingOptionsInput = {
  bestVsWorst?: Scalars['Boolean']['input'];
  field?: InputMaybe<Scalars['String']['input']>;
  /** Preference tasks on a chat prompt: TRL's implicit-prompt form, chosen and rejected each the whole conversation, no prompt column. */
  implicitPrompt?: Scalars['Boolean']['input'];
  question?: InputMaybe<Scalars['String']['input']>;
  strategy?: InputMaybe<Scalars['String']['input']>;
  threshold?: InputMaybe<Scalars['Float']['input']>;
  topK?: InputMaybe<Scalars['Int']['input']>;
};

/** An installed training task (GET /datasets/{id}/training/{name}, trainingData). */
export type TrainingTaskType = {
  columns: Array<Scalars['String']['output']>;
  description: Scalars['String']['output'];
  name: Scalars['String']['output'];
  plugin: Scalars['String']['output'];
  /** The installed question kinds whose questions the task accepts (a UI offers it for those); one question may still be refused with reason unsuitable_question (a missing prompt field). */
  questionKinds: Array<Scalars['String']['output']>;
  /** Options a one-click download in a UI passes (e.g. {"threshold": 4}); {} when none. */
  uiOptions: Scalars['JSON']['output'];
  /** The version of the plugin's distribution; null for a plugin registered in-process without one. */
  version: Maybe<Scalars['String']['output']>;
};

/** Settings of a kind this server cannot use now (its plugin is not installed, or cannot read them); `settingsJson` has them as stored. */
export type UnavailableKindSettings = FieldSettings & QuestionSettings & {
  /** The field kind these settings belong to. */
  kind: Scalars['String']['output'];
  reason: Scalars['String']['output'];
};

/** A value of a kind this server cannot read now; `json` has it as stored. */
export type UnavailableValue = Value & {
  /** The question kind of this value. */
  kind: Scalars['String']['output'];
  reason: Scalars['String']['output'];
};

export type UnifiedAnswer = {
  disagreement: Scalars['Boolean']['output'];
  externalId: Maybe<Scalars['String']['output']>;
  recordId: Scalars['ID']['output'];
  /** Submitted answers combined. */
  submitted: Scalars['Int']['output'];
  /** The kind's documented tie rule decided. */
  tie: Scalars['Boolean']['output'];
  /** The unified answer in the kind's value form. */
  value: Maybe<Scalars['JSON']['output']>;
};

export type UnifiedAnswerConnection = {
  edges: Array<UnifiedAnswerEdge>;
  pageInfo: PageInfo;
};

export type UnifiedAnswerEdge = {
  cursor: Scalars['String']['output'];
  node: UnifiedAnswer;
};

export type UpdateDatasetInput = {
  allowExtraMetadata?: InputMaybe<Scalars['Boolean']['input']>;
  distribution?: InputMaybe<DistributionInput>;
  guidelines?: InputMaybe<Scalars['String']['input']>;
  metadataProperties?: InputMaybe<Array<MetadataPropertyInput>>;
  name?: InputMaybe<Scalars['String']['input']>;
};

export type User = {
  id: Scalars['ID']['output'];
  role: Role;
  username: Scalars['String']['output'];
  /** Workspaces of this user that you can see. */
  workspaces: Array<Workspace>;
};

/** A user with a new API key, shown only this once. */
export type UserWithApiKey = {
  /** Shown once; only its hash is stored. */
  apiKey: Scalars['String']['output'];
  user: User;
};

/** An answer or suggestion: one implementation per installed question kind. */
export type Value = {
  /** The question kind of this value. */
  kind: Scalars['String']['output'];
};

/** An answer or suggestion: the member of its kind. */
export type ValueInput =
  { label: Scalars['String']['input']; multiLabel?: never; ranking?: never; rating?: never; span?: never; text?: never; }
  |  { label?: never; multiLabel: Array<Scalars['String']['input']>; ranking?: never; rating?: never; span?: never; text?: never; }
  |  { label?: never; multiLabel?: never; ranking: Array<RankInput>; rating?: never; span?: never; text?: never; }
  |  { label?: never; multiLabel?: never; ranking?: never; rating: Scalars['Int']['input']; span?: never; text?: never; }
  |  { label?: never; multiLabel?: never; ranking?: never; rating?: never; span: Array<SpanInput>; text?: never; }
  |  { label?: never; multiLabel?: never; ranking?: never; rating?: never; span?: never; text: Scalars['String']['input']; };

/** How a space compares vectors. */
export type VectorMetric =
  | 'COSINE'
  | 'DOT'
  | 'L2';

/** A named vector space of a dataset: records carry one vector of this dimension in it. */
export type VectorSpace = {
  dimension: Scalars['Int']['output'];
  metric: VectorMetric;
  name: Scalars['String']['output'];
};

export type VectorSpaceInput = {
  dimension: Scalars['Int']['input'];
  metric?: VectorMetric;
  name: Scalars['String']['input'];
};

export type Workspace = {
  datasets: Array<Dataset>;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
};

export type AnsweredRecordsQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type AnsweredRecordsQuery = { records: { edges: Array<{ node: { id: string, externalId: string | null, status: RecordStatus, responses: Array<{ status: ResponseStatus }> } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type RecordAnswersQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type RecordAnswersQuery = { record: { id: string, externalId: string | null, status: RecordStatus, fields: any, suggestions: Array<{ question: string, json: any, agent: string | null, score: number | null }>, responses: Array<{ id: string, status: ResponseStatus, updatedAt: string, user: { id: string, username: string }, values: Array<{ question: string, json: any }> }> } };

export type UnifiedCellFragment = { value: any | null, tie: boolean };

export type KindsQueryVariables = Exact<{ [key: string]: never; }>;


export type KindsQuery = { fieldTypes: Array<{ name: string, description: string, settingsSchema: any }>, questionTypes: Array<{ name: string, description: string, settingsSchema: any }> };

export type AddFieldMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  field: FieldInput;
}>;


export type AddFieldMutation = { addField: { id: string } };

export type AddQuestionMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  question: QuestionInput;
}>;


export type AddQuestionMutation = { addQuestion: { id: string } };

export type GuidelinesMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  text: Scalars['String']['input'];
}>;


export type GuidelinesMutation = { updateDataset: { id: string } };

export type DuplicatesMetaQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type DuplicatesMetaQuery = { me: { id: string, role: Role }, dataset: { id: string, name: string, fields: Array<{ name: string }> }, vectorSpaces: Array<{ name: string, dimension: number, metric: VectorMetric }> };

export type NearDuplicatesPageQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  space: Scalars['String']['input'];
  threshold: Scalars['Float']['input'];
  first: Scalars['Int']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type NearDuplicatesPageQuery = { nearDuplicates: { exact: boolean, hasNextPage: boolean, endCursor: string | null, pairs: Array<{ score: number, first: { id: string, externalId: string | null, fields: any, status: RecordStatus }, second: { id: string, externalId: string | null, fields: any, status: RecordStatus } }> } };

export type PairRecordFragment = { id: string, externalId: string | null, fields: any, status: RecordStatus };

export type ProgressFragment = { total: number, pending: number, completed: number, responses: { submitted: number, draft: number, discarded: number } };

export type MyProgressFragment = { submitted: number, draft: number, discarded: number, available: number };

export type MeFieldsFragment = { id: string, username: string, role: Role };

export type HomeQueryVariables = Exact<{ [key: string]: never; }>;


export type HomeQuery = { me: { id: string, username: string, role: Role }, workspaces: Array<{ id: string, name: string, datasets: Array<{ id: string, name: string, status: DatasetStatus, progress: { total: number, pending: number, completed: number, responses: { submitted: number, draft: number, discarded: number } }, myProgress: { submitted: number, draft: number, discarded: number, available: number } }> }> };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, username: string, role: Role } };

export type FieldLayoutFragment = { name: string, title: string, kind: string, required: boolean, settingsJson: any };

export type QuestionLayoutFragment = { name: string, title: string, description: string | null, required: boolean, kind: string, settingsJson: any, available: boolean };

export type KindInfoFragment = { name: string, settingsSchema: any, valueSchema: any, uiHints: any, widgetUrl: string | null, agreement: AgreementLevel, strategies: Array<string> };

export type DatasetQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type DatasetQuery = { me: { id: string, username: string, role: Role }, dataset: { id: string, name: string, guidelines: string | null, status: DatasetStatus, distribution: { minSubmitted: number }, fields: Array<{ name: string, title: string, kind: string, required: boolean, settingsJson: any }>, questions: Array<{ name: string, title: string, description: string | null, required: boolean, kind: string, settingsJson: any, available: boolean }>, progress: { total: number, pending: number, completed: number, responses: { submitted: number, draft: number, discarded: number } }, myProgress: { submitted: number, draft: number, discarded: number, available: number } }, questionTypes: Array<{ name: string, settingsSchema: any, valueSchema: any, uiHints: any, widgetUrl: string | null, agreement: AgreementLevel, strategies: Array<string> }>, fieldTypes: Array<{ name: string, widgetUrl: string | null }> };

export type RecordDataFragment = { id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, myLeaseExpiresAt: string | null, readError: string | null, suggestions: Array<{ question: string, json: any, score: number | null, agent: string | null }>, responses: Array<{ id: string, status: ResponseStatus, version: number, user: { id: string }, values: Array<{ question: string, json: any }> }> };

export type NextMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  first: Scalars['Int']['input'];
}>;


export type NextMutation = { nextRecords: Array<{ id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, myLeaseExpiresAt: string | null, readError: string | null, suggestions: Array<{ question: string, json: any, score: number | null, agent: string | null }>, responses: Array<{ id: string, status: ResponseStatus, version: number, user: { id: string }, values: Array<{ question: string, json: any }> }> }> };

export type RecordQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type RecordQuery = { record: { id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, myLeaseExpiresAt: string | null, readError: string | null, suggestions: Array<{ question: string, json: any, score: number | null, agent: string | null }>, responses: Array<{ id: string, status: ResponseStatus, version: number, user: { id: string }, values: Array<{ question: string, json: any }> }> } };

export type ReleaseMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  skipMinutes?: InputMaybe<Scalars['Int']['input']>;
}>;


export type ReleaseMutation = { releaseRecord: boolean };

export type SubmitMutationVariables = Exact<{
  input: ResponseInput;
}>;


export type SubmitMutation = { submitResponse: { id: string, status: ResponseStatus, version: number } };

export type AnsweredQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type AnsweredQuery = { records: { edges: Array<{ node: { id: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type LiveSubscriptionVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type LiveSubscription = { datasetProgress: { total: number, pending: number, completed: number, responses: { submitted: number, draft: number, discarded: number } } };

export type ManageQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type ManageQuery = { annotatorProgress: Array<{ userId: string, username: string, submitted: number, draft: number, discarded: number, available: number }> };

export type AgreementQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  q: Scalars['String']['input'];
}>;


export type AgreementQuery = { agreement: { question: string, level: AgreementLevel, alpha: number | null, records: number, pairs: number } };

export type DraftsQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type DraftsQuery = { dataset: { id: string, name: string }, myDrafts: { totalCount: number, edges: Array<{ node: { id: string, externalId: string | null, fields: any, updatedAt: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type RecordsMetaQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type RecordsMetaQuery = { me: { id: string, username: string, role: Role }, dataset: { id: string, name: string, status: DatasetStatus, fields: Array<{ name: string, title: string, kind: string, required: boolean, settingsJson: any }>, questions: Array<{ name: string, title: string, description: string | null, required: boolean, kind: string, settingsJson: any, available: boolean }>, metadataProperties: Array<{ name: string, title: string, kind: MetadataPropertyKind, values: Array<string> | null, min: number | null, max: number | null }> }, vectorSpaces: Array<{ name: string, dimension: number, metric: VectorMetric }>, questionTypes: Array<{ name: string, settingsSchema: any, valueSchema: any, uiHints: any, widgetUrl: string | null, agreement: AgreementLevel, strategies: Array<string> }> };

export type ListedRecordFragment = { id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, updatedAt: string, suggestions: Array<{ question: string, score: number | null }>, responses: Array<{ status: ResponseStatus, version: number, user: { id: string } }> };

export type RecordsPageQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  filter?: InputMaybe<RecordFilter>;
  sort?: InputMaybe<RecordSort>;
  first: Scalars['Int']['input'];
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type RecordsPageQuery = { records: { edges: Array<{ node: { id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, updatedAt: string, suggestions: Array<{ question: string, score: number | null }>, responses: Array<{ status: ResponseStatus, version: number, user: { id: string } }> } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type SimilarPageQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  space: Scalars['String']['input'];
  near: NearInput;
  first: Scalars['Int']['input'];
  filter?: InputMaybe<RecordFilter>;
  order: SimilarityOrder;
}>;


export type SimilarPageQuery = { similarRecords: { exact: boolean, searched: number, items: Array<{ score: number, record: { id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, updatedAt: string, responses: Array<{ status: ResponseStatus, version: number, user: { id: string } }> } }> } };

export type SimilarRowFragment = { id: string, externalId: string | null, fields: any, metadata: any, status: RecordStatus, updatedAt: string, responses: Array<{ status: ResponseStatus, version: number, user: { id: string } }> };

export type NearRecordQueryVariables = Exact<{
  near: Scalars['ID']['input'];
}>;


export type NearRecordQuery = { record: { id: string, externalId: string | null, fields: any } };

export type RecordsCountQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  filter?: InputMaybe<RecordFilter>;
}>;


export type RecordsCountQuery = { records: { totalCount: number } };

export type ByExternalIdQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  externalId: Scalars['String']['input'];
}>;


export type ByExternalIdQuery = { records: { edges: Array<{ node: { id: string } }> } };

export type SubmitManyMutationVariables = Exact<{
  inputs: Array<ResponseInput> | ResponseInput;
}>;


export type SubmitManyMutation = { submitResponses: Array<{ id: string, status: ResponseStatus, version: number }> };

export type TrainingTasksQueryVariables = Exact<{ [key: string]: never; }>;


export type TrainingTasksQuery = { trainingTasks: Array<{ name: string, description: string, questionKinds: Array<string>, uiOptions: any }> };

export type ThresholdMutationVariables = Exact<{
  id: Scalars['ID']['input'];
  n: Scalars['Int']['input'];
}>;


export type ThresholdMutation = { updateDataset: { id: string, distribution: { minSubmitted: number } } };

export type VectorSpacesQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type VectorSpacesQuery = { vectorSpaces: Array<{ name: string, metric: VectorMetric }> };

export type SimilarQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  space: Scalars['String']['input'];
  record: Scalars['ID']['input'];
  first: Scalars['Int']['input'];
}>;


export type SimilarQuery = { similarRecords: { exact: boolean, items: Array<{ score: number, record: { id: string, externalId: string | null, status: RecordStatus, fields: any } }> } };

export type PublishMutationVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type PublishMutation = { publishDataset: { id: string, status: DatasetStatus } };

export type SourceQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type SourceQuery = { dataset: { guidelines: string | null, allowExtraMetadata: boolean, workspace: { id: string }, distribution: { minSubmitted: number }, metadataProperties: Array<{ name: string, title: string, kind: MetadataPropertyKind, values: Array<string> | null, min: number | null, max: number | null, visibleForAnnotators: boolean }> } };

export type CopyMutationVariables = Exact<{
  input: CreateDatasetInput;
}>;


export type CopyMutation = { createDataset: { id: string } };

export type MembersQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type MembersQuery = { dataset: { workspace: { id: string, name: string } }, users: Array<{ id: string, username: string, role: Role, workspaces: Array<{ id: string }> }> };

export type AddMutationVariables = Exact<{
  ws: Scalars['ID']['input'];
  user: Scalars['ID']['input'];
}>;


export type AddMutation = { addWorkspaceMember: { id: string } };

export type RemoveMutationVariables = Exact<{
  ws: Scalars['ID']['input'];
  user: Scalars['ID']['input'];
}>;


export type RemoveMutation = { removeWorkspaceMember: { id: string } };

export type NewUserMutationVariables = Exact<{
  input: CreateUserInput;
}>;


export type NewUserMutation = { createUser: { apiKey: string, user: { id: string, username: string } } };
