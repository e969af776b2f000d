// The path of a request's URL, parsed once per request: the authentication
// and conversation-index middlewares both read it, and a URL parse is one of
// the larger items of a turn's Worker-side CPU profile.
const paths = new WeakMap<Request, string>();

/** `new URL(request.url).pathname`, remembered for the request. */
export function requestPathname(request: Request): string {
  let path = paths.get(request);
  if (path === undefined) {
    path = new URL(request.url).pathname;
    paths.set(request, path);
  }
  return path;
}
