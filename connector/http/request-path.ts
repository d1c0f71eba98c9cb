/**
 * The path of a request target: the URL without its query or fragment, as express's router and
 * `req.path` read it. One function for every place that logs, matches or echoes a path, so that a
 * query string (which may carry anything a client put there) never reaches a log line or an answer.
 */
export function pathOf(url: string): string {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f /* ? */ || c === 0x23 /* # */) return url.slice(0, i);
  }
  return url;
}
