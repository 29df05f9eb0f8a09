// A small GraphQL client: JSON POST for queries and mutations, graphql-ws for subscriptions.
// It is what a frontend team needs from any client: the key in the Authorization header,
// typed errors by extensions.code, one retry rule (RATE_LIMITED), and revocation handling.
import { createClient, type Client } from "graphql-ws";

/** Every extensions.code the service sends (its errors.py CODES; tests/test_error_codes.py checks them equal). */
export const ERROR_CODES = [
  "BAD_REQUEST",
  "GRAPHQL_VALIDATION",
  "VALIDATION",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "IDEMPOTENCY_KEY_REUSED",
  "IDEMPOTENCY_KEY_IN_PROGRESS",
  "PAYLOAD_TOO_LARGE",
  "QUERY_TOO_COSTLY",
  "RATE_LIMITED",
  "PLUGIN_UNAVAILABLE",
  "PLUGIN_ERROR",
  "INTERNAL",
  "TIMEOUT",
  "UNAVAILABLE",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export class ApiError extends Error {
  // A code of ERROR_CODES, or HTTP_<status> for an answer that is not GraphQL.
  readonly code: ErrorCode | (string & {});
  readonly errors: GraphQLErrorShape[];
  constructor(errors: GraphQLErrorShape[], status = 200) {
    super(errors.map((e) => e.message).join("; ") || `HTTP ${status}`);
    this.errors = errors;
    this.code = errors[0]?.extensions?.code ?? (status === 401 ? "UNAUTHENTICATED" : "HTTP_" + status);
  }
}

/** What to show for a failed request: the service's messages, or the failure itself. */
export function errorText(error: unknown): string {
  return error instanceof ApiError ? error.errors.map((e) => e.message).join(" · ") : String(error);
}

/** An operation's text, carrying the result and variable types graphql-codegen generated for it
 * (src/generated/graphql.ts): `request` and `subscribe` take only these, so a variable, or a field
 * read from the result, that the operation does not have fails tsc. */
export type Operation<Result, Variables> = string & { readonly __types: (variables: Variables) => Result };

/** Types an operation string; the text is a `/* GraphQL *\/` template literal, which codegen reads. */
export function operation<Result, Variables>(text: string): Operation<Result, Variables> {
  return text as Operation<Result, Variables>;
}

/** A `@oneOf` input keyed by a kind's name (a `ValueInput`, a field's or question's settings).
 * Which kinds exist is known only at run time (plugins add them), not from the committed schema,
 * which has the built-in ones: the service checks the key and the value. */
export function byKind<Input>(kind: string, value: unknown): Input {
  return { [kind]: value } as Input;
}

/** The variables argument: optional when the operation has none. */
type VariablesOf<V> = {} extends V ? [variables?: V] : [variables: V];

/** The key was rotated or its user deleted: the app sends the person back to sign-in. */
export type RevokedHandler = (message: string) => void;

/** The code of a request that never reached the service (offline, server down, connection cut). */
export const NETWORK = "NETWORK";
const UNREACHABLE = "Cannot reach the service";
const REVOKED = "Your API key no longer works (it was rotated, or the user was deleted). Sign in with a current key.";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Api {
  private ws: Client | null = null;
  constructor(private readonly key: string, private readonly onRevoked: RevokedHandler) {}

  async request<T, V>(query: Operation<T, V>, ...args: VariablesOf<V>): Promise<T> {
    const variables = args[0] ?? {};
    for (let attempt = 0; ; attempt++) {
      const response = await this.post(query, variables);
      let body: { data?: T; errors?: GraphQLErrorShape[] } = {};
      try {
        body = await response.json();
      } catch {
        throw new ApiError([{ message: `the server answered ${response.status} without JSON` }], response.status);
      }
      if (body.errors?.length) {
        const error = new ApiError(body.errors, response.status);
        if (error.code === "RATE_LIMITED" && attempt < 3) {
          const seconds = Number(body.errors[0].extensions?.retryAfter ?? 1);
          await sleep(seconds * 1000);
          continue;
        }
        if (error.code === "UNAUTHENTICATED") this.onRevoked(REVOKED);
        throw error;
      }
      if (!response.ok) throw new ApiError([], response.status);
      return body.data as T;
    }
  }

  /** fetch's TypeError ("Failed to fetch") becomes a typed NETWORK error a screen can put in words. */
  private async post(query: string, variables: unknown): Promise<Response> {
    try {
      return await fetch("/graphql", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/graphql-response+json, application/json;q=0.9",
          Authorization: `Bearer ${this.key}`,
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch {
      throw new ApiError([{ message: UNREACHABLE, extensions: { code: NETWORK } }], 0);
    }
  }

  /** Subscribe to an operation; returns the function that stops it. */
  subscribe<T, V extends Record<string, unknown>>(query: Operation<T, V>, variables: V, next: (data: T) => void): () => void {
    if (!this.ws) {
      const url = new URL("/graphql", window.location.href);
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      this.ws = createClient({
        url: url.toString(),
        connectionParams: { Authorization: `Bearer ${this.key}` },
        retryAttempts: 5,
        shouldRetry: (event) => !(event instanceof CloseEvent && event.code === 4403),
        on: {
          closed: (event) => {
            if (event instanceof CloseEvent && event.code === 4403) this.onRevoked(REVOKED);
          },
        },
      });
    }
    return this.ws.subscribe<T>({ query, variables }, {
      next: (message) => message.data && next(message.data as T),
      error: () => undefined,
      complete: () => undefined,
    });
  }

  close(): void {
    void this.ws?.dispose();
    this.ws = null;
  }

  /** A download that needs the Authorization header (keys never go in URLs). */
  async download(path: string, filename: string): Promise<void> {
    let response = await fetch(path, { headers: { Authorization: `Bearer ${this.key}` } });
    // A key told to wait (the page's own reads can spend its turn) is refused everything until
    // then: wait as told and ask again, as request() does.
    for (let attempt = 0; response.status === 429 && attempt < 3; attempt++) {
      await sleep(Number(response.headers.get("Retry-After") ?? 1) * 1000);
      response = await fetch(path, { headers: { Authorization: `Bearer ${this.key}` } });
    }
    if (response.status === 401) this.onRevoked(REVOKED);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new ApiError(body.errors ?? [], response.status);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

const KEY = "feedbackql.apiKey";
export const session = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};
