// The SMTP client against a real SMTP server on 127.0.0.1. In the Worker the socket comes from
// cloudflare:sockets; here a Node socket stands in for it, with a real TLS upgrade that trusts
// the test's own certificate (workerd trusts only public roots: README, "Mail").
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Connect, dotStuffed, isLoopbackHost, type MailSocket, sendMail } from "../../../src/mail/smtp";
import { selfSignedCert, startSmtp, type TestSmtp } from "../../support/smtp-server";

/** cloudflare:sockets' `connect`, over Node's net and tls, trusting `ca`. */
function nodeConnect(ca?: string): Connect {
  const wrap = (sock: net.Socket, opened: Promise<unknown>): MailSocket => {
    let onData: (b: Buffer) => void = () => undefined;
    const readable = new ReadableStream<Uint8Array>({
      start(c) {
        onData = (b) => c.enqueue(new Uint8Array(b));
        sock.on("data", onData);
        sock.once("end", () => c.close());
        sock.once("error", (e) => c.error(e));
      },
    });
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => new Promise((resolve, reject) => sock.write(chunk, (e) => (e ? reject(e) : resolve()))),
    });
    return {
      readable,
      writable,
      opened,
      close: async () => void sock.destroy(),
      startTls: () => {
        sock.removeListener("data", onData);
        const secure = tls.connect({ socket: sock, ca, servername: "localhost" });
        return wrap(secure, once(secure, "secureConnect"));
      },
    };
  };
  return ({ hostname, port }) => {
    const sock = net.connect(port, hostname);
    return wrap(sock, once(sock, "connect"));
  };
}

const message = (subject: string, body: string) =>
  `From: dagflare@example.com\r\nTo: ops@example.com\r\nSubject: ${subject}\r\n\r\n${body}\r\n`;
const base = { host: "127.0.0.1", tls: "starttls" as const, plainAllowed: true, timeoutMs: 5_000, clientName: "t" };

describe("the SMTP client", () => {
  const cert = selfSignedCert();
  let plain: TestSmtp;
  let secure: TestSmtp;
  let locked: TestSmtp;
  beforeAll(async () => {
    plain = await startSmtp();
    secure = await startSmtp({ starttls: true, tls: cert, password: "s3cret-pass" });
    locked = await startSmtp({ password: "s3cret-pass" });
  });
  afterAll(async () => {
    await Promise.all([plain.stop(), secure.stop(), locked.stop()]);
  });

  it("delivers a message with its envelope to a loopback server that offers no STARTTLS", async () => {
    await sendMail(
      nodeConnect(),
      { ...base, port: plain.port },
      {
        from: "dagflare@example.com",
        to: ["ops@example.com", "lead@example.com"],
        data: message("plain", "hello"),
      },
    );
    const m = await plain.waitFor((r) => r.data.includes("Subject: plain"));
    expect(m).toMatchObject({
      from: "dagflare@example.com",
      to: ["ops@example.com", "lead@example.com"],
      secure: false,
    });
  });

  it("keeps lines that start with a dot intact through the server's un-stuffing", async () => {
    const body = ".\n..two dots\n.single\nend";
    await sendMail(
      nodeConnect(),
      { ...base, port: plain.port },
      {
        from: "a@example.com",
        to: ["b@example.com"],
        data: message("dots", body),
      },
    );
    const m = await plain.waitFor((r) => r.data.includes("Subject: dots"));
    expect(m.data).toContain(".\r\n..two dots\r\n.single\r\nend");
  });

  it("upgrades with STARTTLS before it authenticates, and sends over TLS", async () => {
    await sendMail(
      nodeConnect(cert.cert),
      { ...base, port: secure.port, plainAllowed: false, credentials: { username: "alerts", password: "s3cret-pass" } },
      { from: "a@example.com", to: ["b@example.com"], data: message("tls", "over tls") },
    );
    const m = await secure.waitFor((r) => r.data.includes("Subject: tls"));
    expect(m.secure).toBe(true);
    expect(m.user).toBe("alerts");
    expect(secure.auths).toEqual([{ method: "PLAIN", username: "alerts", password: "s3cret-pass", secure: true }]);
  });

  it("fails when the server's certificate is not trusted, sending nothing", async () => {
    const before = secure.received.length;
    const send = sendMail(
      nodeConnect(),
      { ...base, port: secure.port, plainAllowed: false, credentials: { username: "x", password: "s3cret-pass" } },
      { from: "a@example.com", to: ["b@example.com"], data: message("untrusted", "no") },
    );
    await expect(send).rejects.toThrow(/certificate/);
    expect(secure.received.length).toBe(before);
  });

  it("never sends credentials or mail unencrypted where plain is not allowed", async () => {
    const send = sendMail(
      nodeConnect(),
      { ...base, port: locked.port, plainAllowed: false, credentials: { username: "u", password: "s3cret-pass" } },
      { from: "a@example.com", to: ["b@example.com"], data: message("leak", "no") },
    );
    await expect(send).rejects.toThrow(/offers no STARTTLS: mail goes unencrypted only to a loopback host/);
    expect(locked.auths).toEqual([]);
    expect(locked.received).toEqual([]);
  });

  it("says what the server answered to wrong credentials", async () => {
    const send = sendMail(
      nodeConnect(),
      { ...base, port: locked.port, credentials: { username: "u", password: "wrong-password" } },
      { from: "a@example.com", to: ["b@example.com"], data: message("wrong", "no") },
    );
    await expect(send).rejects.toThrow(/^AUTH PLAIN: the server answered 535/);
  });

  it("fails after its timeout when the server never answers", async () => {
    const silent = net.createServer(() => undefined).listen(0, "127.0.0.1");
    await once(silent, "listening");
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const send = sendMail(
        nodeConnect(),
        { ...base, port, timeoutMs: 200 },
        {
          from: "a@example.com",
          to: ["b@example.com"],
          data: message("silent", "no"),
        },
      );
      await expect(send).rejects.toThrow("no answer within 200 ms (the greeting)");
    } finally {
      silent.close();
    }
  });

  it("reports a temporary refusal of the message with its code", async () => {
    plain.refuseNext(1);
    const send = sendMail(
      nodeConnect(),
      { ...base, port: plain.port },
      {
        from: "a@example.com",
        to: ["b@example.com"],
        data: message("refused", "no"),
      },
    );
    await expect(send).rejects.toThrow(/^the end of the message: the server answered 451/);
  });
});

describe("dot-stuffing", () => {
  it("ends every line in CRLF, doubles a leading dot and ends the data", () => {
    expect(dotStuffed("a\n.b\r\n..c\n")).toBe("a\r\n..b\r\n...c\r\n.\r\n");
  });
});

describe("loopback hosts", () => {
  it.each([
    ["localhost", true],
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["[::1]", true],
    ["smtp.example.com", false],
    ["10.0.0.1", false],
    ["127.0.0.1.example.com", false],
  ])("%s is loopback: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
