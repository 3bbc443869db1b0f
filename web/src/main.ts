// The playground: pick a picture, paint the mask, choose a model, see the
// price the gateway quotes for exactly this request, pay from a wallet, watch
// the edit and compare before and after. The gateway checks every request; the
// page shows its message and points at the field it names.

import "./style.css";
import { ApiError, apiError, listModels, sendEdit, type EditBody, type EditResult, type Model } from "./api.ts";
import { readConfig } from "./config.ts";
import { addToHistory, clearHistory, readHistory, type HistoryEntry } from "./history.ts";
import { mb, PictureError, readPicture, type Picture } from "./image-input.ts";
import { MaskPainter, type Tool } from "./mask-painter.ts";

type Paying = typeof import("./paying.ts");

const config = readConfig();
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  drop: byId<HTMLDivElement>("drop"),
  file: byId<HTMLInputElement>("file"),
  example: byId<HTMLButtonElement>("example"),
  limits: byId<HTMLParagraphElement>("limits"),
  editor: byId<HTMLDivElement>("editor"),
  pictureInfo: byId<HTMLParagraphElement>("picture-info"),
  brushSize: byId<HTMLInputElement>("brush-size"),
  brushSizeValue: byId<HTMLOutputElement>("brush-size-value"),
  undo: byId<HTMLButtonElement>("undo"),
  redo: byId<HTMLButtonElement>("redo"),
  clear: byId<HTMLButtonElement>("clear"),
  invert: byId<HTMLButtonElement>("invert"),
  showMask: byId<HTMLInputElement>("show-mask"),
  mask: byId<HTMLCanvasElement>("mask"),
  form: byId<HTMLFormElement>("edit-form"),
  model: byId<HTMLSelectElement>("model"),
  modelInfo: byId<HTMLParagraphElement>("model-info"),
  prompt: byId<HTMLTextAreaElement>("prompt"),
  size: byId<HTMLSelectElement>("size"),
  n: byId<HTMLInputElement>("n"),
  secondImage: byId<HTMLDivElement>("second-image"),
  file2: byId<HTMLInputElement>("file2"),
  quote: byId<HTMLButtonElement>("quote"),
  offer: byId<HTMLDivElement>("offer"),
  price: byId<HTMLElement>("price"),
  wallets: byId<HTMLDivElement>("wallets"),
  status: byId<HTMLDivElement>("status"),
  state: byId<HTMLSpanElement>("state"),
  elapsed: byId<HTMLSpanElement>("elapsed"),
  error: byId<HTMLDivElement>("error"),
  result: byId<HTMLElement>("result"),
  before: byId<HTMLImageElement>("before"),
  after: byId<HTMLImageElement>("after"),
  slider: byId<HTMLInputElement>("compare-slider"),
  download: byId<HTMLAnchorElement>("download"),
  copyUrl: byId<HTMLButtonElement>("copy-url"),
  editAgain: byId<HTMLButtonElement>("edit-again"),
  receipt: byId<HTMLDListElement>("receipt"),
  history: byId<HTMLOListElement>("history"),
  clearHistory: byId<HTMLButtonElement>("clear-history"),
};

const painter = new MaskPainter(byId("picture"), ui.mask);
let models: Model[] = [];
let picture: Picture | undefined;
let second: Picture | undefined;
/** The quote shown, and the request it is for: any change to the request withdraws it. */
let offer: { body: EditBody; quote: Awaited<ReturnType<Paying["readQuote"]>> } | undefined;
let lastUrl: string | undefined;
let paying: Promise<Paying> | undefined;
const loadPaying = () => (paying ??= import("./paying.ts"));
const paid = config.payments !== "off";

// --- pictures ---

ui.limits.textContent = `PNG, JPEG or WebP, ${config.minImageSide} to ${config.maxImageSide} pixels a side, up to ${mb((config.maxBodyBytes * 3) / 4)}.`;

async function usePicture(blob: Blob, name: string): Promise<void> {
  hideError();
  try {
    const chosen = await readPicture(blob, name, config);
    picture?.bitmap.close();
    picture = chosen;
    painter.load(chosen.bitmap);
    ui.editor.hidden = false;
    ui.pictureInfo.textContent = `${name}: ${chosen.width}x${chosen.height}, ${mb(chosen.bytes)}. Paint over what should change.`;
    requestChanged();
    // The wallet code is needed once a price is shown: fetch it while the mask is painted.
    if (paid) void loadPaying();
  } catch (error) {
    showError(error);
  }
}

ui.file.addEventListener("change", () => {
  const file = ui.file.files?.[0];
  if (file) void usePicture(file, file.name);
  ui.file.value = "";
});
ui.file2.addEventListener("change", async () => {
  const file = ui.file2.files?.[0];
  second = undefined;
  requestChanged();
  if (!file) return;
  try {
    second = await readPicture(file, file.name, config);
  } catch (error) {
    ui.file2.value = "";
    showError(error);
  }
});
ui.example.addEventListener("click", async () => {
  const response = await fetch("/example.png");
  if (!response.ok) return showError(new Error("the example picture is not served here"));
  await usePicture(await response.blob(), "example.png");
});
for (const type of ["dragenter", "dragover"] as const) {
  document.addEventListener(type, (event) => {
    event.preventDefault();
    ui.drop.classList.add("over");
  });
}
document.addEventListener("dragleave", (event) => {
  if (event.relatedTarget === null) ui.drop.classList.remove("over");
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  ui.drop.classList.remove("over");
  const file = event.dataTransfer?.files[0];
  if (file) void usePicture(file, file.name);
});
document.addEventListener("paste", (event) => {
  const file = [...(event.clipboardData?.files ?? [])].find((candidate) => candidate.type.startsWith("image/"));
  if (file) void usePicture(file, file.name || "pasted picture");
});

// --- the mask tools ---

painter.onChange = () => {
  ui.undo.disabled = !painter.canUndo;
  ui.redo.disabled = !painter.canRedo;
  requestChanged();
};
const setTool = (tool: Tool) => {
  painter.tool = tool;
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="tool"]')) radio.checked = radio.value === tool;
};
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="tool"]')) radio.addEventListener("change", () => setTool(radio.value as Tool));
const setSize = (size: number) => {
  painter.size = Math.min(Number(ui.brushSize.max), Math.max(Number(ui.brushSize.min), size));
  ui.brushSize.value = String(painter.size);
  ui.brushSizeValue.textContent = String(painter.size);
};
ui.brushSize.addEventListener("input", () => setSize(Number(ui.brushSize.value)));
ui.undo.addEventListener("click", () => painter.undo());
ui.redo.addEventListener("click", () => painter.redo());
ui.clear.addEventListener("click", () => painter.clear());
ui.invert.addEventListener("click", () => painter.invert());
ui.showMask.addEventListener("change", () => ui.mask.classList.toggle("hidden-mask", !ui.showMask.checked));
document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLElement && event.target.closest("input:not([type=range]):not([type=radio]):not([type=checkbox]), textarea, select");
  if (typing || ui.editor.hidden) return;
  const key = event.key.toLowerCase();
  if ((event.ctrlKey || event.metaKey) && key === "z") painter[event.shiftKey ? "redo" : "undo"]();
  else if ((event.ctrlKey || event.metaKey) && key === "y") painter.redo();
  else if (event.ctrlKey || event.metaKey || event.altKey) return;
  else if (key === "b") setTool("brush");
  else if (key === "e") setTool("eraser");
  else if (key === "[") setSize(painter.size - 8);
  else if (key === "]") setSize(painter.size + 8);
  else return;
  event.preventDefault();
});

// --- the request ---

const selectedModel = () => models.find((model) => model.id === ui.model.value);

async function loadModels(): Promise<void> {
  try {
    models = await listModels();
  } catch (error) {
    return showError(error);
  }
  ui.model.replaceChildren(
    ...models.map((model) => {
      const option = new Option(model.available ? `${model.id} (from ${usd(lowestPrice(model))})` : `${model.id}: ${model.unavailable_reason ?? "unavailable here"}`, model.id);
      option.disabled = !model.available;
      return option;
    }),
  );
  const preferred = models.find((model) => model.available && model.id === "local/content-aware-fill") ?? models.find((model) => model.available);
  if (preferred) ui.model.value = preferred.id;
  modelChanged();
}

function modelChanged(): void {
  const model = selectedModel();
  if (!model) return;
  ui.size.replaceChildren(...model.sizes.map((size) => new Option(`${size} (${usd(model.prices[size] ?? "")} each)`, size)));
  ui.size.value = model.default_size;
  ui.n.max = String(model.max_n);
  ui.n.value = String(Math.min(Number(ui.n.value) || 1, model.max_n));
  ui.secondImage.hidden = model.max_images < 2;
  const mask = { required: "mask required", optional: "mask optional", unsupported: "no mask" }[model.mask];
  ui.modelInfo.textContent = `${model.description} ${mask}; up to ${model.max_images} picture${model.max_images > 1 ? "s" : ""}, ${model.max_n} result${model.max_n > 1 ? "s" : ""} per request.`;
  requestChanged();
}
ui.model.addEventListener("change", modelChanged);
for (const input of [ui.prompt, ui.size, ui.n]) input.addEventListener("input", requestChanged);

/** Any change withdraws the price shown: it was for the request as it was. */
function requestChanged(): void {
  offer = undefined;
  ui.offer.hidden = true;
  ui.quote.textContent = paid ? "Get the price" : "Edit";
}

async function buildBody(): Promise<EditBody> {
  const model = selectedModel();
  if (!picture) throw new ApiError("choose a picture first (or use the example picture)", 400, "image");
  if (!model) throw new ApiError("choose a model", 400, "model");
  const body: EditBody = { model: model.id, prompt: ui.prompt.value.trim(), image: picture.dataUri, size: ui.size.value, n: Number(ui.n.value) || 1 };
  if (second && model.max_images > 1) body.image = [picture.dataUri, second.dataUri];
  if (model.mask !== "unsupported" && !painter.isEmpty()) body.mask = await blobToDataUri(await painter.toPng());
  const bytes = JSON.stringify(body).length;
  if (bytes > config.maxBodyBytes) throw new ApiError(`the request would be ${mb(bytes)}; this gateway takes up to ${mb(config.maxBodyBytes)}`, 413, "image");
  return body;
}

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  void run(async () => {
    const body = await buildBody();
    startClock(paid ? "Asking for the price" : "Editing");
    const response = await sendEdit(body);
    if (response.status === 402 && paid) {
      const { readQuote } = await loadPaying();
      offer = { body, quote: await readQuote(response) };
      stopClock();
      await showOffer();
      return;
    }
    await finish(response, body);
  });
});

// --- paying ---

async function showOffer(): Promise<void> {
  if (!offer) return;
  const pay = await loadPaying();
  const { amounts } = offer.quote;
  const cards: HTMLElement[] = [];
  const base = amounts.get(pay.BASE_CAIP2);
  const solana = amounts.get(pay.SOLANA_CAIP2);
  ui.price.textContent = [base !== undefined && `${usdc(base)} USDC on Base`, solana !== undefined && `${usdc(solana)} USDC on Solana`].filter(Boolean).join(" or ") || "no network this page can pay on";
  if (base !== undefined && config.payments === "devchain") cards.push(devWalletCard(pay, base));
  if (base !== undefined) {
    const provider = pay.injectedProvider();
    cards.push(
      card("Browser wallet on Base", provider ? [button(`Pay ${usdc(base)} USDC with your browser wallet`, () => payWith(async () => pay.connectInjected(provider)))] : [text("No browser wallet found (MetaMask, Coinbase Wallet, Rabby …).")]),
    );
  }
  if (solana !== undefined) {
    const found = pay.solanaWallets();
    cards.push(
      card(
        "Solana wallet",
        found.length > 0
          ? found.map((wallet) => button(`Pay ${usdc(solana)} USDC with ${wallet.name}`, () => payWith(() => pay.connectSolana(wallet, config.solanaRpcUrl))))
          : [text("No Solana wallet found (Phantom, Solflare …).")],
      ),
    );
    pay.onSolanaWallets(() => void showOffer());
  }
  ui.wallets.replaceChildren(...cards);
  ui.offer.hidden = false;
  ui.quote.textContent = "Get the price again";
}

function devWalletCard(pay: Paying, amount: bigint): HTMLElement {
  const wallet = pay.storedDevWallet();
  const heading = card("Dev wallet", []);
  heading.querySelector("h3")!.append(badge("local chain only"));
  const note = text("Made in this browser for the local devchain; its key stays in this browser's storage. Never send it real money.");
  if (!wallet) {
    heading.append(note, button("Create a dev wallet", () => {
      pay.createDevWallet();
      void showOffer();
    }));
    return heading;
  }
  const balance = text("Balance: …");
  balance.dataset.role = "dev-balance";
  void refreshDevBalance(pay, wallet.address, balance);
  heading.append(
    note,
    labelled("Address", wallet.address),
    balance,
    row(
      button("Get 10 test USDC", () =>
        run(async () => {
          await pay.fundFromFaucet(wallet.address);
          await refreshDevBalance(pay, wallet.address, balance);
        }),
      ),
      primary(button(`Pay ${usdc(amount)} USDC with the dev wallet`, () => payWith(async () => wallet))),
    ),
  );
  return heading;
}

/** The devchain's endpoints, asked once. */
let devchainInfo: Promise<{ evm?: { rpcUrl: string } } | undefined> | undefined;

async function refreshDevBalance(pay: Paying, address: string, into: HTMLElement): Promise<void> {
  devchainInfo ??= fetch("/api/v1/devchain").then((response) => response.json()).catch(() => undefined);
  const evm = (await devchainInfo)?.evm;
  if (!evm) return;
  try {
    into.textContent = `Balance: ${usdc(await pay.devchainUsdc(evm.rpcUrl, address))} USDC`;
  } catch {
    into.textContent = "Balance: the devchain does not answer";
  }
}

function payWith(connect: () => Promise<Awaited<ReturnType<Paying["connectInjected"]>>>): Promise<void> {
  return run(async () => {
    if (!offer) throw new ApiError("get the price again: the request changed", 400);
    const { body, quote } = offer;
    const pay = await loadPaying();
    startClock("Connecting the wallet");
    const wallet = await connect();
    const result = await pay.payAndSend(body, quote, wallet, setState);
    const amount = quote.amounts.get(wallet.network);
    await finish(result.response, body, {
      payer: result.settlement?.payer ?? wallet.address,
      transaction: result.settlement?.transaction,
      network: wallet.network === pay.BASE_CAIP2 ? "Base" : "Solana",
      amount: amount === undefined ? undefined : `${usdc(amount)} USDC`,
    });
  });
}

// --- results ---

interface Receipt {
  payer?: string;
  amount?: string;
  network?: string;
  transaction?: string;
}

async function finish(response: Response, body: EditBody, receipt: Receipt = {}): Promise<void> {
  if (!response.ok || response.status === 202) throw await apiError(response);
  const answer = (await response.json()) as EditResult;
  const url = answer.data[0]?.url;
  if (!url) throw new ApiError("the gateway answered without a result URL", response.status);
  stopClock(`Done in ${elapsedText()}`);
  offer = undefined;
  ui.offer.hidden = true;
  ui.quote.textContent = paid ? "Get the price" : "Edit";
  showResult(url, body, answer, receipt);
  renderHistory(
    addToHistory({
      at: new Date().toISOString(),
      model: body.model,
      prompt: body.prompt,
      url,
      price: answer.price?.amount,
      network: receipt.network,
      transaction: receipt.transaction,
      payer: receipt.payer,
    }),
  );
}

function showResult(url: string, body: EditBody, answer: EditResult, receipt: Receipt): void {
  lastUrl = url;
  ui.before.src = Array.isArray(body.image) ? body.image[0]! : body.image;
  ui.after.src = url;
  ui.download.href = url;
  ui.download.download = url.split("/").pop() ?? "retouch.png";
  ui.result.hidden = false;
  const rows: [string, string | undefined][] = [
    ["Model", body.model],
    ["Price", answer.price ? `$${answer.price.amount}` : undefined],
    ["Paid", receipt.amount && receipt.network ? `${receipt.amount} on ${receipt.network}` : undefined],
    ["Payer", receipt.payer],
    ["Transaction", receipt.transaction],
    ["URL", url],
  ];
  ui.receipt.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      if (!value) return [];
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      const code = document.createElement("code");
      code.textContent = value;
      code.dataset.field = term.toLowerCase();
      dd.append(code);
      return [dt, dd];
    }),
  );
  ui.result.scrollIntoView({ behavior: "smooth", block: "start" });
}

ui.slider.addEventListener("input", () => (ui.before.style.clipPath = `inset(0 ${100 - Number(ui.slider.value)}% 0 0)`));
ui.copyUrl.addEventListener("click", async () => {
  if (!lastUrl) return;
  try {
    await navigator.clipboard.writeText(new URL(lastUrl, location.href).href);
    ui.copyUrl.textContent = "Copied";
  } catch {
    ui.copyUrl.textContent = "Copy failed: use Download";
  }
  setTimeout(() => (ui.copyUrl.textContent = "Copy URL"), 2000);
});
ui.editAgain.addEventListener("click", () =>
  run(async () => {
    if (!lastUrl) return;
    const response = await fetch(lastUrl);
    if (!response.ok) throw await apiError(response);
    await usePicture(await response.blob(), "the result");
    ui.editor.scrollIntoView({ behavior: "smooth" });
  }),
);

function renderHistory(entries: HistoryEntry[] = readHistory()): void {
  ui.history.replaceChildren(
    ...entries.map((entry) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = entry.url;
      const image = document.createElement("img");
      image.src = entry.url;
      image.alt = entry.prompt || entry.model;
      image.loading = "lazy";
      link.append(image);
      const words = document.createElement("p");
      words.textContent = `${new Date(entry.at).toLocaleString()} · ${entry.model}${entry.prompt ? ` · “${entry.prompt}”` : ""}${entry.price ? ` · $${entry.price}` : ""}${entry.transaction ? ` · tx ${entry.transaction.slice(0, 10)}…` : ""}`;
      item.append(link, words);
      return item;
    }),
  );
  ui.clearHistory.hidden = entries.length === 0;
}
ui.clearHistory.addEventListener("click", () => {
  clearHistory();
  renderHistory([]);
});

// --- state, time and errors ---

let clock: { started: number; timer: number } | undefined;
function startClock(state: string): void {
  hideError();
  stopClock();
  clock = { started: performance.now(), timer: window.setInterval(() => (ui.elapsed.textContent = elapsedText()), 100) };
  setState(state);
  ui.status.hidden = false;
}
function setState(state: string): void {
  ui.state.textContent = state;
  ui.elapsed.textContent = elapsedText();
}
function stopClock(finalState?: string): void {
  if (clock) window.clearInterval(clock.timer);
  if (finalState) {
    ui.state.textContent = finalState;
    ui.elapsed.textContent = "";
  } else {
    ui.status.hidden = true;
  }
  clock = undefined;
}
const elapsedText = () => (clock ? `${((performance.now() - clock.started) / 1000).toFixed(1)} s` : "");

/** Runs one user action: buttons are disabled meanwhile, and any failure is shown. */
async function run(action: () => Promise<void>): Promise<void> {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>("#request button, #result button")];
  for (const element of buttons) element.disabled = true;
  try {
    await action();
  } catch (error) {
    stopClock();
    showError(error);
  } finally {
    for (const element of buttons) element.disabled = false;
  }
}

const FIELDS: Record<string, HTMLElement> = { model: ui.model, prompt: ui.prompt, size: ui.size, n: ui.n, image: ui.file, mask: ui.mask };

function showError(error: unknown): void {
  const message = error instanceof ApiError || error instanceof PictureError ? error.message : walletMessage(error);
  const param = error instanceof ApiError ? error.param : null;
  ui.error.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = param ? `${param}: ` : "";
  ui.error.append(strong, document.createTextNode(message));
  ui.error.hidden = false;
  for (const element of Object.values(FIELDS)) element.removeAttribute("aria-invalid");
  const field = param ? FIELDS[param.replace(/\[\d+\]$/, "")] : undefined;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    if (field === ui.mask || field === ui.file) (field === ui.mask ? ui.editor : ui.drop).scrollIntoView({ block: "center" });
    else field.focus();
  }
}

function hideError(): void {
  ui.error.hidden = true;
}

/** A wallet's refusal in words ("the wallet refused to sign"), anything else as its message. */
function walletMessage(error: unknown): string {
  const code = (error as { code?: number; cause?: { code?: number } }).code ?? (error as { cause?: { code?: number } }).cause?.code;
  if (code === 4001) return "the wallet refused: nothing was signed and nothing was paid";
  return error instanceof Error ? error.message : String(error);
}

// --- small helpers ---

function usd(amount: string): string {
  return amount ? `$${amount}` : "price unknown";
}
function lowestPrice(model: Model): string {
  const prices = Object.values(model.prices).map(Number).filter(Number.isFinite);
  return prices.length ? String(Math.min(...prices)) : "";
}
function usdc(atomic: bigint): string {
  const whole = atomic / 1_000_000n;
  const fraction = (atomic % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return fraction ? `${whole}.${fraction}` : String(whole);
}
function blobToDataUri(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
function card(title: string, children: HTMLElement[]): HTMLElement {
  const element = document.createElement("div");
  element.className = "wallet";
  const heading = document.createElement("h3");
  heading.textContent = title;
  element.append(heading, ...children);
  return element;
}
function badge(words: string): HTMLElement {
  const element = document.createElement("span");
  element.className = "badge";
  element.textContent = words;
  return element;
}
function text(words: string): HTMLElement {
  const element = document.createElement("p");
  element.className = "hint";
  element.textContent = words;
  return element;
}
function labelled(label: string, value: string): HTMLElement {
  const element = document.createElement("p");
  element.className = "hint";
  const code = document.createElement("code");
  code.textContent = value;
  element.append(`${label}: `, code);
  return element;
}
function button(label: string, onClick: () => void | Promise<void>): HTMLButtonElement {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.addEventListener("click", () => void onClick());
  return element;
}
function primary(element: HTMLButtonElement): HTMLButtonElement {
  element.classList.add("primary");
  return element;
}
function row(...children: HTMLElement[]): HTMLElement {
  const element = document.createElement("div");
  element.className = "row";
  element.append(...children);
  return element;
}

renderHistory();
void loadModels();
