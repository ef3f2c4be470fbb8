// An answer without a body that says so. Under `wrangler dev` a bodiless answer goes out as a
// gzip stream of unknown length unless it names its encoding; Dagu's web client reads that as
// JSON and fails. `Content-Encoding: identity` keeps it as it is, with `Content-Length: 0`.
export const emptyOk = (): Response =>
  new Response(null, { status: 200, headers: { "content-length": "0", "content-encoding": "identity" } });
