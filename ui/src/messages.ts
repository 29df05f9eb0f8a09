// A VALIDATION error in a labeler's words: each problem named by its question's title, without
// the API path (`values[0].value.ranking: …`), option values shown as their texts. The service's
// problems carry `question` and `reason` (docs/api.md), so no kind is named here.
import type { ApiError, GraphQLErrorShape } from "./api";
import type { QuestionT } from "./ops";

type Entry = { message: string; path?: unknown[]; reason?: string; question?: string };
type Option = { value: string; text: string };

/** Generic reasons, said plainly; a kind's own reasons keep the kind's own message. */
const REASONS: Record<string, string> = {
  required: "needs an answer before you submit",
  unknown_question: "is not a question of this dataset any more",
};

function entries(error: ApiError): Entry[] {
  return error.errors.flatMap((e: GraphQLErrorShape) => {
    const listed = e.extensions?.errors as Entry[] | undefined;
    return listed?.length ? listed : [{ message: e.message, question: e.extensions?.question as string | undefined }];
  });
}

/** The message without its leading API path, option values replaced by their texts. */
function plain(message: string, question: QuestionT | undefined): string {
  let text = message.replace(/^[\w$.[\]-]+: /, "");
  const options = (question?.settingsJson.options as Option[] | undefined) ?? [];
  for (const o of options) text = text.split(`'${o.value}'`).join(`“${o.text}”`);
  return text.replace(/\[((?:“[^”]*”(?:, )?)+)\]/g, "$1");
}

export interface Explained { summary: string; byQuestion: Record<string, string> }

/** What to show: one line per problem for the notice, and each question's own message. */
export function explain(error: ApiError, questions: QuestionT[]): Explained {
  const byName = new Map(questions.map((q) => [q.name, q]));
  const byQuestion: Record<string, string> = {};
  const lines = entries(error).map((entry) => {
    const question = entry.question ? byName.get(entry.question) : undefined;
    const said = (entry.reason && REASONS[entry.reason]) ?? plain(entry.message, question);
    if (!question) return said;
    byQuestion[question.name] = byQuestion[question.name] ? `${byQuestion[question.name]}; ${said}` : said;
    return `“${question.title}”: ${said}`;
  });
  return { summary: lines.join(" · "), byQuestion };
}
