// Dagu's mail keys: `mailOn`, `smtp`, `errorMail`, `infoMail` (src/mail/ sends the mail when a
// run finishes). PURE. A DAG never holds an SMTP password: `smtp.password` names a Worker
// secret whose name starts with SMTP_ (`${SMTP_PASSWORD}`), resolved only when the mail is
// sent, so the spec shows nothing secret and no other secret of the Worker can be named.
import { isMap, isSeq, type Node, type YAMLMap } from "yaml";
import type { Issues } from "./issues";
import { checkKeys, type KeySet } from "./keys";
import type { MailConfig, MailDef, SmtpDef } from "./types";
import { child, isAbsent } from "./yaml-nodes";

const MAIL_KEYS = ["mailOn", "smtp", "errorMail", "infoMail"];

/** Recipients of one mail: a list past this is a mailing list's job. */
export const MAX_MAIL_RECIPIENTS = 50;
/** A subject prefix (it goes into one header line). */
export const MAX_MAIL_PREFIX_CHARS = 200;

const MAIL_ON_KEYS: KeySet = { supported: new Set(["failure", "success"]), later: new Set() };
const SMTP_KEYS: KeySet = { supported: new Set(["host", "port", "username", "password"]), later: new Set() };
const CONFIG_KEYS: KeySet = { supported: new Set(["from", "to", "prefix", "attachLogs"]), later: new Set() };

/** An address as it goes between `<` and `>` in SMTP: no spaces, brackets, quotes or line breaks. */
const ADDRESS = /^[^\s<>()",;:@\\]+@[A-Za-z0-9.-]+$/;
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
const PASSWORD_REF = /^\$\{(SMTP_[A-Z0-9_]*)\}$|^\$(SMTP_[A-Z0-9_]*)$/;

export function readMail(root: YAMLMap, issues: Issues): MailDef | undefined {
  const get = (key: string): Node | undefined => {
    const n = child(root, key);
    return isAbsent(n) ? undefined : n;
  };
  if (!MAIL_KEYS.some((k) => get(k))) return undefined;
  const mail: MailDef = { on: { failure: false, success: false } };
  const onNode = get("mailOn");
  if (onNode) {
    if (!isMap(onNode)) issues.at(onNode, "mailOn", "mailOn must be a mapping (failure, success)");
    else {
      checkKeys(onNode, MAIL_ON_KEYS, "mailOn", issues);
      for (const key of ["failure", "success"] as const) {
        const n = child(onNode, key);
        if (!isAbsent(n)) mail.on[key] = issues.bool(n, `mailOn.${key}`) ?? false;
      }
    }
  }
  const smtpNode = get("smtp");
  if (smtpNode) mail.smtp = readSmtp(smtpNode, issues);
  for (const key of ["errorMail", "infoMail"] as const) {
    const n = get(key);
    const config = n && readConfig(n, key, issues);
    if (config) mail[key] = config;
  }
  const need = (on: "failure" | "success", key: "errorMail" | "infoMail") => {
    if (mail.on[on] && !mail[key]?.to.length) {
      issues.at(onNode, `mailOn.${on}`, `mailOn.${on} sends ${key}: give its recipients in ${key}.to`);
    }
  };
  need("failure", "errorMail");
  need("success", "infoMail");
  return mail;
}

function readSmtp(node: Node, issues: Issues): SmtpDef | undefined {
  if (!isMap(node)) {
    issues.at(node, "smtp", "smtp must be a mapping (host, port, username, password)");
    return undefined;
  }
  checkKeys(node, SMTP_KEYS, "smtp", issues);
  const smtp: SmtpDef = {};
  const hostNode = child(node, "host");
  const host = !isAbsent(hostNode) ? issues.string(hostNode, "smtp.host") : undefined;
  if (host !== undefined && host !== "") {
    if (HOST.test(host)) smtp.host = host;
    else issues.at(hostNode, "smtp.host", `smtp.host "${host}" is not a host name or an address`);
  }
  const portNode = child(node, "port");
  const port = !isAbsent(portNode)
    ? issues.int(portNode, "smtp.port", 1, { value: 65535, why: "a TCP port" })
    : undefined;
  if (port !== undefined) smtp.port = port;
  const userNode = child(node, "username");
  const username = !isAbsent(userNode) ? issues.string(userNode, "smtp.username") : undefined;
  if (username) {
    if (/[\r\n\0]/.test(username)) issues.at(userNode, "smtp.username", "smtp.username must be one line");
    else smtp.username = username;
  }
  const passNode = child(node, "password");
  const password = !isAbsent(passNode) ? issues.string(passNode, "smtp.password") : undefined;
  if (password) {
    const ref = PASSWORD_REF.exec(password);
    const name = ref?.[1] ?? ref?.[2];
    if (name) smtp.passwordSecret = name;
    else {
      issues.at(
        passNode,
        "smtp.password",
        'smtp.password must name a Worker secret, as "${SMTP_PASSWORD}" (a name starting with SMTP_, set with `wrangler secret put`): a password written in a DAG would be shown to everyone who can read the DAG',
      );
    }
  }
  return smtp;
}

function readConfig(node: Node, field: string, issues: Issues): MailConfig | undefined {
  if (!isMap(node)) {
    issues.at(node, field, `${field} must be a mapping (from, to, prefix, attachLogs)`);
    return undefined;
  }
  checkKeys(node, CONFIG_KEYS, field, issues);
  const config: MailConfig = { to: [], attachLogs: false };
  const address = (n: Node, where: string): string | undefined => {
    const text = issues.string(n, where)?.trim();
    if (text === undefined) return undefined;
    if (ADDRESS.test(text)) return text;
    issues.at(n, where, `${where} "${text}" is not a mail address (name@domain)`);
    return undefined;
  };
  const fromNode = child(node, "from");
  const from = !isAbsent(fromNode) ? address(fromNode, `${field}.from`) : undefined;
  if (from) config.from = from;
  const toNode = child(node, "to");
  if (!isAbsent(toNode)) {
    const items = isSeq(toNode)
      ? toNode.items.map((item, i) => ({ node: item as Node, where: `${field}.to[${i}]` }))
      : [{ node: toNode, where: `${field}.to` }];
    if (items.length > MAX_MAIL_RECIPIENTS) {
      issues.at(toNode, `${field}.to`, `${items.length} recipients, over the limit of ${MAX_MAIL_RECIPIENTS}`);
    } else {
      for (const item of items) {
        const to = address(item.node, item.where);
        if (to) config.to.push(to);
      }
    }
  }
  const prefixNode = child(node, "prefix");
  const prefix = !isAbsent(prefixNode) ? issues.string(prefixNode, `${field}.prefix`) : undefined;
  if (prefix !== undefined) {
    // A subject is one header line.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(prefix))
      issues.at(prefixNode, `${field}.prefix`, `${field}.prefix must be one line`);
    else if (prefix.length > MAX_MAIL_PREFIX_CHARS) {
      issues.at(prefixNode, `${field}.prefix`, `${field}.prefix is over ${MAX_MAIL_PREFIX_CHARS} characters`);
    } else if (prefix) config.prefix = prefix;
  }
  const attachNode = child(node, "attachLogs");
  if (!isAbsent(attachNode)) config.attachLogs = issues.bool(attachNode, `${field}.attachLogs`) ?? false;
  return config;
}
