// The limits of outgoing webhooks, in one place (the README's limits table states them).

/** Webhooks of a deployment: every run event is matched against all of them. */
export const MAX_WEBHOOKS = 100;
export const MAX_EVENT_PATTERNS = 20;
export const MAX_FILTER_NAMES = 100;
export const MAX_HEADERS = 20;
/** Names and values of a webhook's extra headers together, in UTF-8. */
export const MAX_HEADER_BYTES = 8 * 1024;
export const MAX_URL_CHARS = 2_048;
/** A step's error message is cut to this many characters in an event. */
export const MAX_EVENT_ERROR_CHARS = 1_024;
/** Attempts of one delivery before it is given up. */
export const MAX_ATTEMPTS = 10;
/** A delivery not done this long after its event is given up, whatever its attempts. */
export const MAX_DELIVERY_AGE_MS = 24 * 60 * 60 * 1000;
/** First retry delay (doubled each attempt, jittered, at most MAX_RETRY_DELAY_MS). */
export const RETRY_BASE_MS = 10_000;
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** How long one attempt waits for the receiver's answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Finished deliveries kept per webhook for `GET /webhooks/{id}/deliveries`. */
export const KEPT_DELIVERIES = 100;
/** Deliveries one alarm sends at once. */
export const DELIVERIES_PER_ALARM = 20;
/** How long an isolate trusts its list of webhooks; a new webhook hears events within it. */
export const WEBHOOK_CACHE_MS = 5_000;
