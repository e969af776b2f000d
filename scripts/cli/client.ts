// The HTTP calls the CLI makes to an epikv Worker, with OpenAI-style error
// bodies turned into readable errors.
export interface ClientOptions {
  url: string;
  key?: string;
}

export class EpikvHttpError extends Error {
  constructor(readonly status: number, method: string, path: string, detail: string) {
    super(`${method} ${path} → HTTP ${status}: ${detail}`);
    this.name = "EpikvHttpError";
  }
}

export async function call<T>(opts: ClientOptions, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const h: Record<string, string> = { accept: "application/json", ...headers };
  if (opts.key) h.authorization = `Bearer ${opts.key}`;
  if (body !== undefined) h["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(opts.url.replace(/\/+$/, "") + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new Error(`cannot reach epikv at ${opts.url} (${(err as Error).cause ?? (err as Error).message}); start it with \`npm start\` or pass --url`);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 300);
    throw new EpikvHttpError(res.status, method, path, message);
  }
  return { status: res.status, body: parsed as T };
}
