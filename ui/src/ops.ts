// Every operation the UI shares between views. Each is a `/* GraphQL */` template literal typed with
// the result and variable types graphql-codegen generates from it (src/generated/graphql.ts); the
// pieces several operations ask for are fragments, whose generated types the views name.
import { operation } from "./api";
import type * as G from "./generated/graphql";

const PROGRESS = /* GraphQL */ `fragment Progress on DatasetProgress {
  total pending completed responses { submitted draft discarded }
}`;
const MY_PROGRESS = /* GraphQL */ `fragment MyProgress on AnnotatorProgress { submitted draft discarded available }`;
const ME_FIELDS = /* GraphQL */ `fragment MeFields on User { id username role }`;
export type Progress = G.ProgressFragment;
export type MyProgress = G.MyProgressFragment;
export type Me = G.MeFieldsFragment;

export const HOME = operation<G.HomeQuery, G.HomeQueryVariables>(/* GraphQL */ `query Home {
  me { ...MeFields }
  workspaces { id name datasets { id name status progress { ...Progress } myProgress { ...MyProgress } } }
}
${ME_FIELDS} ${PROGRESS} ${MY_PROGRESS}`);

export const ME = operation<G.MeQuery, G.MeQueryVariables>(/* GraphQL */ `query Me { me { ...MeFields } }
${ME_FIELDS}`);

/** How a dataset's fields and questions are shown (the labeling view, bulk labelling, the records view). */
const LAYOUT = /* GraphQL */ `fragment FieldLayout on Field { name title kind required settingsJson }
fragment QuestionLayout on Question { name title description required kind settingsJson available }`;
/** What a view needs to know of each question kind. */
const KINDS = /* GraphQL */ `fragment KindInfo on QuestionType {
  name settingsSchema valueSchema uiHints widgetUrl agreement strategies
}`;
/** A JSON scalar (generated as `unknown`) as the shape the service gives it. */
type Shaped<T, Shapes> = Omit<T, keyof Shapes> & Shapes;
type Settings = { settingsJson: Record<string, unknown> };
export type FieldT = Shaped<G.FieldLayoutFragment, Settings>;
export type QuestionT = Shaped<G.QuestionLayoutFragment, Settings>;
export type KindInfo = Shaped<G.KindInfoFragment, {
  settingsSchema: JsonSchema; valueSchema: JsonSchema; uiHints: Record<string, unknown>;
}>;

export const DATASET = operation<G.DatasetQuery, G.DatasetQueryVariables>(/* GraphQL */ `query Dataset($id: ID!) {
  me { ...MeFields }
  dataset(id: $id) {
    id name guidelines status distribution { minSubmitted }
    fields { ...FieldLayout }
    questions { ...QuestionLayout }
    progress { ...Progress } myProgress { ...MyProgress }
  }
  questionTypes { ...KindInfo }
  fieldTypes { name widgetUrl }
}
${ME_FIELDS} ${LAYOUT} ${KINDS} ${PROGRESS} ${MY_PROGRESS}`);
export type DatasetData = G.DatasetQuery;

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

const RECORD = /* GraphQL */ `fragment RecordData on Record {
  id externalId fields metadata status myLeaseExpiresAt readError
  suggestions { question json score agent }
  responses { id status version user { id } values { question json } }
}`;
export type RecordData = Shaped<G.RecordDataFragment, {
  fields: Record<string, unknown>; metadata: Record<string, unknown>;
}>;

export const NEXT = operation<G.NextMutation, G.NextMutationVariables>(
  /* GraphQL */ `mutation Next($id: ID!, $first: Int!) {
  nextRecords(datasetId: $id, first: $first) { ...RecordData }
}
${RECORD}`);
export const RECORD_BY_ID = operation<G.RecordQuery, G.RecordQueryVariables>(/* GraphQL */ `query Record($id: ID!) {
  record(id: $id) { ...RecordData }
}
${RECORD}`);
export const RELEASE = operation<G.ReleaseMutation, G.ReleaseMutationVariables>(
  /* GraphQL */ `mutation Release($id: ID!, $skipMinutes: Int) {
  releaseRecord(recordId: $id, skipMinutes: $skipMinutes)
}`);
export const SUBMIT = operation<G.SubmitMutation, G.SubmitMutationVariables>(
  /* GraphQL */ `mutation Submit($input: ResponseInput!) {
  submitResponse(input: $input) { id status version }
}`);
export const ANSWERED = operation<G.AnsweredQuery, G.AnsweredQueryVariables>(
  /* GraphQL */ `query Answered($id: ID!, $after: String) {
  records(datasetId: $id, first: 100, after: $after,
          filter: { myResponseStatus: [SUBMITTED, DISCARDED, DRAFT] }) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}`);

export const LIVE_PROGRESS = operation<G.LiveSubscription, G.LiveSubscriptionVariables>(
  /* GraphQL */ `subscription Live($id: ID!) {
  datasetProgress(datasetId: $id) { ...Progress }
}
${PROGRESS}`);

export const MANAGE = operation<G.ManageQuery, G.ManageQueryVariables>(/* GraphQL */ `query Manage($id: ID!) {
  annotatorProgress(datasetId: $id) { userId username ...MyProgress }
}
${MY_PROGRESS}`);
export const AGREEMENT = operation<G.AgreementQuery, G.AgreementQueryVariables>(
  /* GraphQL */ `query Agreement($id: ID!, $q: String!) {
  agreement(datasetId: $id, question: $q) { question level alpha records pairs }
}`);

export const DRAFTS = operation<G.DraftsQuery, G.DraftsQueryVariables>(
  /* GraphQL */ `query Drafts($id: ID!, $after: String) {
  dataset(id: $id) { id name }
  myDrafts(datasetId: $id, first: 50, after: $after) {
    totalCount edges { node { id externalId fields updatedAt } } pageInfo { hasNextPage endCursor }
  }
}`);
export type DraftNode = G.DraftsQuery["myDrafts"]["edges"][number]["node"];

// The records view (records.tsx) and bulk labelling (bulk.tsx).

export const RECORDS_META = operation<G.RecordsMetaQuery, G.RecordsMetaQueryVariables>(
  /* GraphQL */ `query RecordsMeta($id: ID!) {
  me { ...MeFields }
  dataset(id: $id) {
    id name status fields { ...FieldLayout } questions { ...QuestionLayout }
    metadataProperties { name title kind values min max }
  }
  vectorSpaces(datasetId: $id) { name dimension metric }
  questionTypes { ...KindInfo }
}
${ME_FIELDS} ${LAYOUT} ${KINDS}`);
export type RecordsMetaData = G.RecordsMetaQuery;
export type MetadataPropertyT = G.RecordsMetaQuery["dataset"]["metadataProperties"][number];
export type VectorSpaceT = G.RecordsMetaQuery["vectorSpaces"][number];

/** A record as the records view lists it (the records page and the similar records alike). */
const LISTED = /* GraphQL */ `fragment ListedRecord on Record {
  id externalId fields metadata suggestions { question score } status updatedAt
  responses { status version user { id } }
}`;

export const RECORDS_PAGE = operation<G.RecordsPageQuery, G.RecordsPageQueryVariables>(/* GraphQL */ `query RecordsPage(
  $id: ID!, $filter: RecordFilter, $sort: RecordSort, $first: Int!, $after: String
) {
  records(datasetId: $id, filter: $filter, sort: $sort, first: $first, after: $after) {
    edges { node { ...ListedRecord } }
    pageInfo { hasNextPage endCursor }
  }
}
${LISTED}`);
export type ListedRecord = Shaped<G.ListedRecordFragment, {
  fields: Record<string, unknown>; metadata: Record<string, unknown> | null;
}>;

/** The records view's similar mode (similarlist.tsx), near a record or a vector: the filter applies
 * before the top `first`. A row without suggestions (only a sort by their score shows them, and the
 * similar list has no other order): the service's cost limit counts `items` 5 per `first`, and
 * without them 1,000 rows cost 148,001 (with them 203,001, over the 200,000 limit). */
export const SIMILAR_PAGE = operation<G.SimilarPageQuery, G.SimilarPageQueryVariables>(/* GraphQL */ `query SimilarPage(
  $id: ID!, $space: String!, $near: NearInput!, $first: Int!, $filter: RecordFilter, $order: SimilarityOrder!
) {
  similarRecords(datasetId: $id, space: $space, near: $near, first: $first, filter: $filter, order: $order) {
    exact searched items { score record { ...SimilarRow } }
  }
}
fragment SimilarRow on Record {
  id externalId fields metadata status updatedAt
  responses { status version user { id } }
}`);
/** A similar record as a row of the records table (with no suggestions: see SIMILAR_PAGE). */
export interface SimilarHit { score: number; record: ListedRecord }
export const NEAR_RECORD = operation<G.NearRecordQuery, G.NearRecordQueryVariables>(
  /* GraphQL */ `query NearRecord($near: ID!) { record(id: $near) { id externalId fields } }`);

/** Asked only for filters whose count the service reads from counters or an index (docs/queries.md). */
export const RECORDS_COUNT = operation<G.RecordsCountQuery, G.RecordsCountQueryVariables>(
  /* GraphQL */ `query RecordsCount(
  $id: ID!, $filter: RecordFilter
) {
  records(datasetId: $id, filter: $filter, first: 1) { totalCount }
}`);

export const BY_EXTERNAL_ID = operation<G.ByExternalIdQuery, G.ByExternalIdQueryVariables>(
  /* GraphQL */ `query ByExternalId(
  $id: ID!, $externalId: String!
) {
  records(datasetId: $id, filter: { externalIds: [$externalId] }, first: 1) { edges { node { id } } }
}`);

export const SUBMIT_MANY = operation<G.SubmitManyMutation, G.SubmitManyMutationVariables>(
  /* GraphQL */ `mutation SubmitMany(
  $inputs: [ResponseInput!]!
) {
  submitResponses(inputs: $inputs) { id status version }
}`);
export const TRAINING_TASKS = operation<G.TrainingTasksQuery, G.TrainingTasksQueryVariables>(
  /* GraphQL */ `query TrainingTasks {
  trainingTasks { name description questionKinds uiOptions }
}`);
export type TrainingTaskInfo = Shaped<G.TrainingTasksQuery["trainingTasks"][number], {
  uiOptions: Record<string, string | number | boolean>;
}>;
