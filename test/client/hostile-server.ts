// A gateway that turns hostile after the quote, for the buyer tools' tests: it forwards
// a real gateway's honest 402 and the paid request (so the quote is really settled on
// the devchain), then lies in the way `mode` says. It counts every payment and sign-in
// header it is sent, and settles on chain any payment a poll carries, as a thief would.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { decodePaymentRequiredHeader, decodePaymentSignatureHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { devchainX402Facilitator } from "../../src/payments/facilitator/in-process.ts";
import type { HttpGateway } from "./http-gateway.ts";

export type HostileMode =
  /** 202, then every poll asks 0.99 USDC to another address (no sign-in offered). */
  | "poll-asks-payment"
  /** 202 with a valid sign-in challenge; every poll, signed in or not, asks 0.99 USDC with a fresh challenge. */
  | "siwx-then-asks"
  /** 202 with a sign-in challenge bound to another site (the real gateway). */
  | "siwx-foreign"
  /** 200, labelled `already_settled` although the payment was new. */
  | "already-settled"
  /** 200 whose result URL points at another loopback port. */
  | "foreign-result";

export const ASK_ATOMIC = 990_000n; // 0.99 USDC

export interface HostileGateway {
  url: string;
  mode: HostileMode;
  /** PAYMENT-SIGNATURE headers on the edit request. */
  payments: string[];
  /** PAYMENT-SIGNATURE headers on polls: must stay empty. */
  pollPayments: string[];
  /** SIGN-IN-WITH-X headers on polls. */
  signIns: string[];
  /** Requests that reached the other loopback server. */
  trapHits: number;
  trapUrl: string;
  pollUrl: string;
  /** Where the 0.99 USDC ask would go. */
  thief: `0x${string}`;
  reset(mode: HostileMode): void;
  close(): Promise<void>;
}

const EDIT = "/api/v1/images/image2image";
const JOB = "job_hostilehostilehostileAA";

export async function startHostileGateway(real: HttpGateway): Promise<HostileGateway> {
  const facilitator = devchainX402Facilitator(real.gw.gateway.devchain!);
  const thief = privateKeyToAccount(generatePrivateKey()).address;
  let honest: PaymentRequired | undefined;

  const trap = await listen(
    createServer((_req, res) => {
      state.trapHits++;
      res.end("not a picture");
    }),
  );

  const state: HostileGateway = {
    url: "",
    mode: "poll-asks-payment",
    payments: [],
    pollPayments: [],
    signIns: [],
    trapHits: 0,
    trapUrl: `http://127.0.0.1:${port(trap)}/result.png`,
    pollUrl: "",
    thief,
    reset(mode) {
      Object.assign(state, { mode, payments: [], pollPayments: [], signIns: [], trapHits: 0 });
    },
    async close() {
      await Promise.all([close(server), close(trap)]);
    },
  };

  const challenge = (origin: string, pollUrl: string) => ({
    info: {
      domain: new URL(origin).host,
      uri: pollUrl,
      statement: "Sign in to poll your job.",
      version: "1",
      nonce: randomBytes(12).toString("hex"),
      issuedAt: new Date().toISOString(),
      expirationTime: new Date(Date.now() + 300_000).toISOString(),
      resources: [pollUrl],
    },
    supportedChains: [{ chainId: "eip155:8453", type: "eip191" }],
  });

  async function paidEdit(req: IncomingMessage, body: Buffer, payment: string, res: ServerResponse): Promise<void> {
    state.payments.push(payment);
    const forwarded = await fetch(`${real.url}${EDIT}`, { method: "POST", headers: { "content-type": String(req.headers["content-type"]), "PAYMENT-SIGNATURE": payment }, body });
    const answer = (await forwarded.json()) as { data: { url: string }[]; payment: { status: string } };
    const own = (url: string) => url.replace(real.url, state.url);
    switch (state.mode) {
      case "already-settled":
        answer.payment.status = "already_settled";
        return json(res, 200, { ...answer, data: answer.data.map((d) => ({ ...d, url: own(d.url) })) });
      case "foreign-result":
        return json(res, 200, { ...answer, data: [{ url: state.trapUrl }] });
      default: {
        const offered =
          state.mode === "siwx-then-asks" ? challenge(state.url, state.pollUrl) : state.mode === "siwx-foreign" ? challenge(real.url, `${real.url}/api/v1/images/jobs/${JOB}`) : undefined;
        const extensions = offered ? { "sign-in-with-x": offered } : undefined;
        return json(res, 202, { id: JOB, object: "image.edit.job", status: "in_progress", poll_url: state.pollUrl, ...(extensions ? { extensions } : {}) });
      }
    }
  }

  async function poll(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const payment = req.headers["payment-signature"];
    if (typeof payment === "string") {
      state.pollPayments.push(payment);
      const payload = decodePaymentSignatureHeader(payment);
      await facilitator.settle(payload, payload.accepted).catch(() => {});
    }
    const signIn = req.headers["sign-in-with-x"];
    if (typeof signIn === "string") state.signIns.push(signIn);
    const base = honest!.accepts.find((a) => a.network === "eip155:8453")!;
    const ask: PaymentRequirements = { ...base, amount: ASK_ATOMIC.toString(), payTo: thief };
    const extensions = state.mode === "siwx-then-asks" ? { "sign-in-with-x": challenge(state.url, state.pollUrl) } : undefined;
    const required: PaymentRequired = { x402Version: 2, resource: { url: state.pollUrl, description: "poll", mimeType: "application/json" }, accepts: [ask], extensions };
    res.setHeader("PAYMENT-REQUIRED", encodePaymentRequiredHeader(required));
    json(res, 402, { error: "payment required to poll", ...(extensions ? { extensions } : {}) });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await read(req);
    if (req.method === "POST" && req.url === EDIT) {
      const payment = req.headers["payment-signature"];
      if (typeof payment === "string") return paidEdit(req, body, payment, res);
      const quote = await fetch(`${real.url}${EDIT}`, { method: "POST", headers: { "content-type": String(req.headers["content-type"]) }, body });
      const header = quote.headers.get("payment-required");
      if (header) {
        honest = decodePaymentRequiredHeader(header);
        res.setHeader("PAYMENT-REQUIRED", header);
      }
      res.writeHead(quote.status, { "content-type": quote.headers.get("content-type") ?? "application/json" });
      return void res.end(Buffer.from(await quote.arrayBuffer()));
    }
    if (req.method === "GET" && req.url === new URL(state.pollUrl).pathname) return poll(req, res);
    const passed = await fetch(`${real.url}${req.url}`, { method: req.method });
    res.writeHead(passed.status, { "content-type": passed.headers.get("content-type") ?? "application/octet-stream" });
    res.end(Buffer.from(await passed.arrayBuffer()));
  }

  const server = await listen(
    createServer((req, res) => {
      handle(req, res).catch((error: Error) => json(res, 500, { error: error.message }));
    }),
  );
  state.url = `http://127.0.0.1:${port(server)}`;
  state.pollUrl = `${state.url}/api/v1/images/jobs/${JOB}`;
  return state;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function listen(server: Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
