"""The GraphQL operations the SDK sends."""

WORKSPACES = "{ workspaces { id name } }"
CREATE_WORKSPACE = "mutation($name: String!) { createWorkspace(name: $name) { id name } }"
ME = "{ me { id username role } }"
USERS = "{ users { id username role } }"
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  apiKey user { id username role } } }"""
DATASET_PARTS = """id name guidelines status allowExtraMetadata distribution { minSubmitted }
  workspace { id name }
  fields { name title required kind settingsJson }
  questions { name title description required kind settingsJson }
  metadataProperties { name title kind values min max visibleForAnnotators }"""
DATASETS = f"query($ws: ID!) {{ datasets(workspaceId: $ws) {{ {DATASET_PARTS} }} }}"
CREATE_DATASET = f"mutation($input: CreateDatasetInput!) {{ createDataset(input: $input) {{ {DATASET_PARTS} }} }}"
PUBLISH = "mutation($id: ID!) { publishDataset(id: $id) { status } }"
DELETE_DATASET = "mutation($id: ID!) { deleteDataset(id: $id) }"
DELETE_WORKSPACE = "mutation($id: ID!) { deleteWorkspace(id: $id) }"
ADD_RECORDS = """mutation($id: ID!, $records: [RecordInput!]!, $onConflict: RecordConflictPolicy! = REFUSE) {
  addRecords(datasetId: $id, records: $records, onConflict: $onConflict) {
  created updated unchanged responses errors { index code message } } }"""
RECORD_PARTS = """id externalId status fields metadata suggestions { question json score agent }
  responses { status user { username } values { question json } }"""
RECORDS = f"""query($id: ID!, $filter: RecordFilter, $first: Int!, $after: String) {{
  records(datasetId: $id, filter: $filter, first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {RECORD_PARTS} }} }} }} }}"""
NEXT_RECORDS = f"""mutation($id: ID!, $first: Int!, $near: ID, $space: String) {{
  nextRecords(datasetId: $id, first: $first, near: $near, space: $space) {{ {RECORD_PARTS} }} }}"""
RELEASE_RECORD = "mutation($id: ID!) { releaseRecord(recordId: $id) }"
DELETE_RECORDS = "mutation($id: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $id, ids: $ids) { deleted ids } }"
UNIFIED_ANSWERS = """query($id: ID!, $question: String!, $strategy: String, $first: Int!, $after: String) {
  unifiedAnswers(datasetId: $id, question: $question, strategy: $strategy, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { recordId externalId value tie disagreement submitted } } } }"""
AGREEMENT = """query($id: ID!, $question: String!) {
  agreement(datasetId: $id, question: $question) { question level alpha records pairs } }"""
PROGRESS = """query($id: ID!) { dataset(id: $id) {
  progress { total pending completed responses { submitted draft discarded } } } }"""
ADD_MEMBER = """mutation($ws: ID!, $user: ID!) { addWorkspaceMember(workspaceId: $ws, userId: $user) {
  id username role } }"""
SUBMIT = """mutation($input: ResponseInput!) { submitResponse(input: $input) { id status version } }"""
DATASETS_OVERVIEW = """{ workspaces { id name datasets { id name status
  progress { total pending completed responses { submitted draft discarded } } } } }"""
