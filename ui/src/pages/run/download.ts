// A whole log, shown or as a file: the API needs the token in a header, so a plain link cannot fetch it; the text
// is fetched with the token and handed to the browser as a download.
import { api } from "../../api/client";
import type { LogSlice } from "../../api/types";

/** The whole text: `head` past any log's length asks for every line the server keeps. */
const ALL_LINES = 1_000_000_000;

type LogQuery = Record<string, string | number | undefined>;

/** Every line of a log the server keeps. */
export function fetchWholeLog(path: string, query: LogQuery = {}): Promise<LogSlice> {
  return api.get<LogSlice>(path, { ...query, head: ALL_LINES });
}

export async function downloadLog(path: string, fileName: string, query: LogQuery = {}) {
  const slice = await fetchWholeLog(path, query);
  const url = URL.createObjectURL(new Blob([slice.content], { type: "text/plain;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  a.click();
  // The download has started from the object URL; it can go once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
