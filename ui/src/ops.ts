// Every operation the UI sends, with the shapes it reads (built from the generated schema types).
import type {
  AgreementReport, AnnotatorProgress, Dataset, DatasetProgress, Field, Question, QuestionType, Record as RecordT,
  ResponseStatus, Role, Suggestion, TrainingTaskType, Workspace,
} from "./generated/schema";

export type Progress = Pick<DatasetProgress, "total" | "pending" | "completed"> & {
  responses: DatasetProgress["responses"];
};
export type MyProgress = Pick<AnnotatorProgress, "submitted" | "draft" | "discarded" | "available">;
export type Me = { id: string; username: string; role: Role };

const PROGRESS = "total pending completed responses { submitted draft discarded }";
const MY_PROGRESS = "submitted draft discarded available";

export const HOME = `query Home {
  me { id username role }
  workspaces { id name datasets { id name status progress { ${PROGRESS} } myProgress { ${MY_PROGRESS} } } }
}`;
export type HomeData = {
  me: Me;
  workspaces: (Pick<Workspace, "id" | "name"> & {
    datasets: (Pick<Dataset, "id" | "name" | "status"> & { progress: Progress; myProgress: MyProgress })[];
  })[];
};

export const ME = `query Me { me { id username role } }`;

export const DATASET = `query Dataset($id: ID!) {
  me { id username role }
  dataset(id: $id) {
    id name guidelines status distribution { minSubmitted }
    fields { name title kind required settingsJson }
    questions { name title description required kind settingsJson available }
    progress { ${PROGRESS} } myProgress { ${MY_PROGRESS} }
  }
  questionTypes { name settingsSchema valueSchema uiHints widgetUrl agreement strategies }
  fieldTypes { name widgetUrl }
}`;
export type FieldT = Pick<Field, "name" | "title" | "kind" | "required"> & { settingsJson: Record<string, unknown> };
export type QuestionT = Pick<Question, "name" | "title" | "description" | "required" | "kind" | "available"> & {
  settingsJson: Record<string, unknown>;
};
export type KindInfo = Pick<QuestionType, "name" | "agreement" | "strategies"> & {
  settingsSchema: JsonSchema; valueSchema: JsonSchema; uiHints: Record<string, unknown>; widgetUrl: string | null;
};
export type DatasetData = {
  me: Me;
  dataset: Pick<Dataset, "id" | "name" | "guidelines" | "status" | "distribution"> & {
    fields: FieldT[]; questions: QuestionT[]; progress: Progress; myProgress: MyProgress;
  };
  questionTypes: KindInfo[];
  fieldTypes: { name: string; widgetUrl: string | null }[];
};

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  default?: unknown;
  anyOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

const RECORD = `id externalId fields metadata status myLeaseExpiresAt readError
  suggestions { question json score agent }
  responses { id status version user { id } values { question json } }`;
export type RecordData = Pick<RecordT, "id" | "externalId" | "status" | "myLeaseExpiresAt" | "readError"> & {
  fields: Record<string, unknown>;
  metadata: Record<string, unknown>;
  suggestions: (Pick<Suggestion, "question" | "score" | "agent"> & { json: unknown })[];
  responses: { id: string; status: ResponseStatus; version: number; user: { id: string };
    values: { question: string; json: unknown }[] }[];
};

export const NEXT = `mutation Next($id: ID!, $first: Int!) { nextRecords(datasetId: $id, first: $first) { ${RECORD} } }`;
export const RECORD_BY_ID = `query Record($id: ID!) { record(id: $id) { ${RECORD} } }`;
export const RELEASE = `mutation Release($id: ID!, $skipMinutes: Int) { releaseRecord(recordId: $id, skipMinutes: $skipMinutes) }`;
export const SUBMIT = `mutation Submit($input: ResponseInput!) { submitResponse(input: $input) { id status version } }`;
export const ANSWERED = `query Answered($id: ID!, $after: String) {
  records(datasetId: $id, first: 100, after: $after,
          filter: { myResponseStatus: [SUBMITTED, DISCARDED, DRAFT] }) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}`;
export type AnsweredData = { records: { edges: { node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

export const LIVE_PROGRESS = `subscription Live($id: ID!) { datasetProgress(datasetId: $id) { ${PROGRESS} } }`;

export const MANAGE = `query Manage($id: ID!) {
  annotatorProgress(datasetId: $id) { userId username ${MY_PROGRESS} }
}`;
export type ManageData = { annotatorProgress: (MyProgress & Pick<AnnotatorProgress, "userId" | "username">)[] };
export const AGREEMENT = `query Agreement($id: ID!, $q: String!) {
  agreement(datasetId: $id, question: $q) { question level alpha records pairs }
}`;
export type AgreementData = { agreement: Pick<AgreementReport, "question" | "level" | "alpha" | "records" | "pairs"> };

export const DRAFTS = `query Drafts($id: ID!, $after: String) {
  dataset(id: $id) { id name }
  myDrafts(datasetId: $id, first: 50, after: $after) {
    totalCount edges { node { id externalId fields updatedAt } } pageInfo { hasNextPage endCursor }
  }
}`;
export type DraftNode = Pick<RecordT, "id" | "externalId" | "updatedAt"> & { fields: Record<string, unknown> };
export type DraftsData = { dataset: { id: string; name: string };
  myDrafts: { totalCount: number; edges: { node: DraftNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

// The records view (records.tsx) and bulk labelling (bulk.tsx).
import type { MetadataProperty, VectorSpace } from "./generated/schema";

/** What the bulk form needs to show the questions as the labeling view does (the shapes of DATASET). */
const LAYOUT = "fields { name title kind required settingsJson } questions { name title description required kind settingsJson available }";
const KINDS = "questionTypes { name settingsSchema valueSchema uiHints widgetUrl agreement strategies }";
export const RECORDS_META = `query RecordsMeta($id: ID!) {
  me { id username role }
  dataset(id: $id) { id name status ${LAYOUT} metadataProperties { name title kind values min max } }
  vectorSpaces(datasetId: $id) { name metric }
  ${KINDS}
}`;
export type MetadataPropertyT = Pick<MetadataProperty, "name" | "title" | "kind" | "values" | "min" | "max">;
export type RecordsMetaData = {
  me: Me;
  dataset: Pick<Dataset, "id" | "name" | "status"> & {
    fields: FieldT[]; questions: QuestionT[]; metadataProperties: MetadataPropertyT[];
  };
  vectorSpaces: VectorSpaceT[];
  questionTypes: KindInfo[];
};
export type VectorSpaceT = Pick<VectorSpace, "name" | "metric">;

/** A record as the records view lists it (the records page and the similar records alike). */
const LISTED = `id externalId fields metadata suggestions { question score } status updatedAt
      responses { status version user { id } }`;

export const RECORDS_PAGE = `query RecordsPage($id: ID!, $filter: RecordFilter, $sort: RecordSort, $first: Int!, $after: String) {
  records(datasetId: $id, filter: $filter, sort: $sort, first: $first, after: $after) {
    edges { node { ${LISTED} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export type ListedRecord = Pick<RecordT, "id" | "externalId" | "status" | "updatedAt"> & {
  fields: Record<string, unknown>;
  metadata: Record<string, unknown> | null;
  suggestions: { question: string; score: number | null }[];
  responses: { status: ResponseStatus; version: number; user: { id: string } }[];
};
export type RecordsPageData = { records: { edges: { node: ListedRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

/** The records view's similar mode (similarlist.tsx): the filter applies before the top `first`. */
export const SIMILAR_PAGE = `query SimilarPage($id: ID!, $space: String!, $near: ID!, $first: Int!, $filter: RecordFilter) {
  similarRecords(datasetId: $id, space: $space, near: { recordId: $near }, first: $first, filter: $filter) {
    exact searched items { score record { ${LISTED} } } }
}`;
export type SimilarHit = { score: number; record: ListedRecord };
export type SimilarPageData = { similarRecords: { exact: boolean; searched: number; items: SimilarHit[] } };
export const NEAR_RECORD = `query NearRecord($near: ID!) { record(id: $near) { id externalId fields } }`;
export type NearRecordData = { record: { id: string; externalId: string | null; fields: Record<string, unknown> } };

/** Asked only for filters whose count the service reads from counters or an index (docs/queries.md). */
export const RECORDS_COUNT = `query RecordsCount($id: ID!, $filter: RecordFilter) {
  records(datasetId: $id, filter: $filter, first: 1) { totalCount }
}`;
export type RecordsCountData = { records: { totalCount: number } };

export const BY_EXTERNAL_ID = `query ByExternalId($id: ID!, $externalId: String!) {
  records(datasetId: $id, filter: { externalIds: [$externalId] }, first: 1) { edges { node { id } } }
}`;
export type ByExternalIdData = { records: { edges: { node: { id: string } }[] } };

export const SUBMIT_MANY = `mutation SubmitMany($inputs: [ResponseInput!]!) {
  submitResponses(inputs: $inputs) { id status version }
}`;
export type SubmitManyData = { submitResponses: { id: string; status: ResponseStatus; version: number }[] };
export const TRAINING_TASKS = `query TrainingTasks { trainingTasks { name description questionKinds uiOptions } }`;
export type TrainingTaskInfo = Pick<TrainingTaskType, "name" | "description" | "questionKinds"> & {
  uiOptions: Record<string, string | number | boolean>;
};
export type TrainingTasksData = { trainingTasks: TrainingTaskInfo[] };
