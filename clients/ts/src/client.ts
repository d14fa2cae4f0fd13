// A thin typed client of the zwfw API for the mini-program (wx.request) and H5 pages (fetch).
// The types come from ./schema.ts, generated from bff/openapi.yaml by `make client`; this file
// only sends requests and types them: paths, path and query parameters, JSON bodies, the
// success body, the Idempotency-Key of retried writes, the X-Client header and the error envelope.
import type { components, paths } from "./schema";

export type { components, paths } from "./schema";

/** Every schema of the API by name, e.g. `Schemas["Case"]`. */
export type Schemas = components["schemas"];
/** The error envelope every failure answers with. */
export type ErrorEnvelope = Schemas["Error"];
/** Every error code (see the ErrorCode schema for each one's status and message). */
export type ErrorCode = Schemas["ErrorCode"];
/** The front end asking; it decides the form of every link in an answer (schema Link). */
export type ClientKind = NonNullable<components["parameters"]["XClient"]>;

type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

/** The methods a path serves. */
export type MethodOf<P extends keyof paths> = {
  [M in HttpMethod]: paths[P][M] extends { responses: unknown } ? M : never;
}[HttpMethod];

/** The operation served at a path and method. */
export type Operation<P extends keyof paths, M extends MethodOf<P>> = paths[P][M];

type Params<O, In extends "path" | "query" | "header"> = O extends { parameters: infer A }
  ? A extends { [K in In]?: infer T }
    ? T
    : never
  : never;

type BodyOf<RB> = RB extends { content: { "application/json": infer B } } ? B : never;
type JSONBody<O> = O extends { requestBody: infer RB }
  ? BodyOf<RB>
  : O extends { requestBody?: infer RB }
    ? BodyOf<RB> | undefined
    : never;

type SuccessStatus = 200 | 201 | 202 | 204;

/** The body of the operation's success answer (undefined for 204). */
export type Success<O> = O extends { responses: infer R }
  ? {
      [S in keyof R & SuccessStatus]: R[S] extends { content: { "application/json": infer T } } ? T : undefined;
    }[keyof R & SuccessStatus]
  : never;

// An option is required when the operation requires it, optional when it may
// take it, and absent when it takes none.
type Slot<K extends string, T> = [T] extends [never]
  ? { [P in K]?: never }
  : [T] extends [undefined]
    ? { [P in K]?: never }
    : undefined extends T
      ? { [P in K]?: Exclude<T, undefined> }
      : { [P in K]: T };

type IdempotencySlot<O> =
  Params<O, "header"> extends { "Idempotency-Key": string }
    ? { idempotencyKey: string }
    : Params<O, "header"> extends { "Idempotency-Key"?: string }
      ? { idempotencyKey?: string }
      : { idempotencyKey?: never };

/** What a call takes besides the method and path. */
export type RequestOptions<O> = Slot<"path", Params<O, "path">> &
  Slot<"query", Params<O, "query">> &
  Slot<"body", JSONBody<O>> &
  IdempotencySlot<O> & { signal?: AbortSignal };

type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
type OptionsArg<O> = RequiredKeys<RequestOptions<O>> extends never
  ? [options?: RequestOptions<O>]
  : [options: RequestOptions<O>];

/** One HTTP exchange as a transport sees it. */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>; // names in lower case
  text: string;
}

/** Sends one request; fetchTransport and wxTransport are the two there are. */
export type Transport = (req: HttpRequest) => Promise<HttpResponse>;

/** A failed call: the HTTP status and the error envelope, code typed. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | "NETWORK_ERROR" | "UNEXPECTED_RESPONSE";
  readonly requestId?: string;
  readonly fields?: ErrorEnvelope["fields"];
  readonly details?: ErrorEnvelope["details"];
  /** Seconds to wait before retrying (429, 409 IDEMPOTENCY_KEY_IN_USE, 503), from Retry-After. */
  readonly retryAfter?: number;

  constructor(
    status: number,
    envelope: Omit<Partial<ErrorEnvelope>, "code" | "message"> & { code: ApiError["code"]; message: string },
    retryAfter?: number,
  ) {
    super(envelope.message);
    this.name = "ApiError";
    this.status = status;
    this.code = envelope.code;
    this.requestId = envelope.request_id;
    this.fields = envelope.fields;
    this.details = envelope.details;
    this.retryAfter = retryAfter;
  }
}

export interface ClientOptions {
  /** Where zwfw answers, e.g. https://zwfw.example.gov.cn (no trailing slash). */
  baseURL: string;
  transport: Transport;
  /** Sent as X-Client on every request: the form the answer's links take. */
  client: ClientKind;
  /** The access token of the signed-in user, if any (Authorization: Bearer). */
  accessToken?: () => string | undefined;
}

/** The zwfw API, typed from its OpenAPI document. */
export class ZwfwClient {
  constructor(private readonly opts: ClientOptions) {}

  /** Calls one operation; resolves with its success body, rejects with ApiError. */
  async request<P extends keyof paths, M extends MethodOf<P>>(
    method: M,
    path: P,
    ...[options]: OptionsArg<Operation<P, M>>
  ): Promise<Success<Operation<P, M>>> {
    const o = (options ?? {}) as {
      path?: Record<string, string | number>;
      query?: Record<string, string | number | boolean | undefined>;
      body?: unknown;
      idempotencyKey?: string;
    };
    const headers: Record<string, string> = { Accept: "application/json", "X-Client": this.opts.client };
    const token = this.opts.accessToken?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (o.idempotencyKey) headers["Idempotency-Key"] = o.idempotencyKey;
    let body: string | undefined;
    if (o.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(o.body);
    }
    const url = this.opts.baseURL + fillPath(path as string, o.path) + queryString(o.query);
    let res: HttpResponse;
    try {
      res = await this.opts.transport({ method: method.toUpperCase(), url, headers, body });
    } catch (err) {
      throw new ApiError(0, { code: "NETWORK_ERROR", message: "网络连接失败，请检查网络后重试" });
    }
    const parsed = parseJSON(res.text);
    if (res.status >= 200 && res.status < 300) {
      return (res.status === 204 ? undefined : parsed) as Success<Operation<P, M>>;
    }
    const retryAfter = res.headers["retry-after"] ? Number(res.headers["retry-after"]) : undefined;
    if (isEnvelope(parsed)) throw new ApiError(res.status, parsed, retryAfter);
    throw new ApiError(res.status, { code: "UNEXPECTED_RESPONSE", message: "服务暂时不可用，请稍后再试" }, retryAfter);
  }

  get<P extends PathsWith<"get">>(path: P, ...rest: OptionsArg<Operation<P, "get" & MethodOf<P>>>) {
    return this.request<P, "get" & MethodOf<P>>("get" as "get" & MethodOf<P>, path, ...rest);
  }

  post<P extends PathsWith<"post">>(path: P, ...rest: OptionsArg<Operation<P, "post" & MethodOf<P>>>) {
    return this.request<P, "post" & MethodOf<P>>("post" as "post" & MethodOf<P>, path, ...rest);
  }

  put<P extends PathsWith<"put">>(path: P, ...rest: OptionsArg<Operation<P, "put" & MethodOf<P>>>) {
    return this.request<P, "put" & MethodOf<P>>("put" as "put" & MethodOf<P>, path, ...rest);
  }

  patch<P extends PathsWith<"patch">>(path: P, ...rest: OptionsArg<Operation<P, "patch" & MethodOf<P>>>) {
    return this.request<P, "patch" & MethodOf<P>>("patch" as "patch" & MethodOf<P>, path, ...rest);
  }

  delete<P extends PathsWith<"delete">>(path: P, ...rest: OptionsArg<Operation<P, "delete" & MethodOf<P>>>) {
    return this.request<P, "delete" & MethodOf<P>>("delete" as "delete" & MethodOf<P>, path, ...rest);
  }
}

/** The paths that serve a method. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: M extends MethodOf<P> ? P : never;
}[keyof paths];

/**
 * A new Idempotency-Key for one user action. Make it when the person acts (taps 支付) and send
 * the same key with every retry of that action, so a retry never pays or books twice.
 */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`;
}

/** The transport of an H5 page (or anything with fetch). */
export function fetchTransport(fetchImpl: typeof fetch = fetch): Transport {
  return async (req) => {
    const res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return { status: res.status, headers, text: await res.text() };
  };
}

/** The part of the mini-program's `wx` the transport uses. */
export interface WxLike {
  request(options: {
    url: string;
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
    header: Record<string, string>;
    data?: string;
    dataType: string;
    responseType: "text";
    success(res: { statusCode: number; header: Record<string, string>; data: unknown }): void;
    fail(err: { errMsg: string }): void;
  }): unknown;
}

/** The transport of the WeChat mini-program: wx.request, the body read as text. */
export function wxTransport(wx: WxLike): Transport {
  return (req) =>
    new Promise((resolve, reject) => {
      wx.request({
        url: req.url,
        method: req.method as "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
        header: req.headers,
        data: req.body,
        dataType: "text", // parsed here, so the error envelope is read the same way as with fetch
        responseType: "text",
        success(res) {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.header ?? {})) headers[name.toLowerCase()] = String(value);
          resolve({ status: res.statusCode, headers, text: typeof res.data === "string" ? res.data : JSON.stringify(res.data) });
        },
        fail(err) {
          reject(new Error(err.errMsg));
        },
      });
    });
}

function fillPath(template: string, params?: Record<string, string | number>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`path parameter ${name} missing for ${template}`);
    return encodeURIComponent(String(v));
  });
}

function queryString(query?: Record<string, string | number | boolean | undefined>): string {
  if (!query) return "";
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

function parseJSON(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isEnvelope(v: unknown): v is ErrorEnvelope {
  return typeof v === "object" && v !== null && typeof (v as ErrorEnvelope).code === "string" && typeof (v as ErrorEnvelope).message === "string";
}
