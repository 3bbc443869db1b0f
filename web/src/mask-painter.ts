// Paints the mask over the picture: a brush and an eraser of adjustable size
// (mouse, pen and touch through pointer events), undo/redo, clear and invert.
// The mask canvas has the picture's own size; the API gets it as a
// white-on-black PNG of that size (white = edit), its contract exactly.

const PAINT = [255, 45, 111] as const;
const PAINT_STYLE = `rgb(${PAINT.join(",")})`;
/** Undo steps kept, and the pixel bytes they may hold in all (a clear of a 4096x4096 mask is 128 MB). */
const HISTORY_STEPS = 50;
const HISTORY_BYTES = 256 * 1024 * 1024;

interface Step {
  x: number;
  y: number;
  before: ImageData;
  after: ImageData;
}

export type Tool = "brush" | "eraser";

export class MaskPainter {
  tool: Tool = "brush";
  /** Brush diameter in screen pixels: the same feel on a small and a large picture. */
  size = 40;
  onChange: () => void = () => {};

  private readonly mask: CanvasRenderingContext2D;
  /** The mask as it was before the stroke in progress: where undo steps are cut from. */
  private readonly committed = document.createElement("canvas").getContext("2d", { willReadFrequently: true })!;
  private undoSteps: Step[] = [];
  private redoSteps: Step[] = [];
  private stroke?: { id: number; last: { x: number; y: number }; box: [number, number, number, number] };

  constructor(
    private readonly picture: HTMLCanvasElement,
    private readonly maskCanvas: HTMLCanvasElement,
  ) {
    this.mask = maskCanvas.getContext("2d", { willReadFrequently: true })!;
    maskCanvas.addEventListener("pointerdown", (event) => this.begin(event));
    maskCanvas.addEventListener("pointermove", (event) => this.extend(event));
    for (const type of ["pointerup", "pointercancel"] as const) maskCanvas.addEventListener(type, (event) => this.end(event));
  }

  get width(): number {
    return this.maskCanvas.width;
  }

  get height(): number {
    return this.maskCanvas.height;
  }

  /** Shows `bitmap` and starts an empty mask of its size. */
  load(bitmap: ImageBitmap): void {
    for (const canvas of [this.picture, this.maskCanvas, this.committed.canvas]) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    this.picture.getContext("2d")!.drawImage(bitmap, 0, 0);
    this.undoSteps = [];
    this.redoSteps = [];
    this.onChange();
  }

  get canUndo(): boolean {
    return this.undoSteps.length > 0;
  }

  get canRedo(): boolean {
    return this.redoSteps.length > 0;
  }

  undo(): void {
    const step = this.undoSteps.pop();
    if (!step) return;
    this.put(step.before, step.x, step.y);
    this.redoSteps.push(step);
    this.onChange();
  }

  redo(): void {
    const step = this.redoSteps.pop();
    if (!step) return;
    this.put(step.after, step.x, step.y);
    this.undoSteps.push(step);
    this.onChange();
  }

  clear(): void {
    this.whole((pixels) => pixels.fill(0));
  }

  invert(): void {
    this.whole((pixels) => {
      for (let i = 0; i < pixels.length; i += 4) {
        const painted = pixels[i + 3]! >= 128;
        pixels.set(painted ? [0, 0, 0, 0] : [...PAINT, 255], i);
      }
    });
  }

  /** Whether any pixel would be white in the PNG sent. */
  isEmpty(): boolean {
    const pixels = this.mask.getImageData(0, 0, this.width, this.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! >= 128) return false;
    return true;
  }

  /** The mask as the API takes it: a PNG of the picture's size, white where painted, black elsewhere. */
  async toPng(): Promise<Blob> {
    const source = this.mask.getImageData(0, 0, this.width, this.height);
    const out = new ImageData(this.width, this.height);
    for (let i = 0; i < out.data.length; i += 4) {
      const value = source.data[i + 3]! >= 128 ? 255 : 0;
      out.data[i] = out.data[i + 1] = out.data[i + 2] = value;
      out.data[i + 3] = 255;
    }
    const canvas = document.createElement("canvas");
    canvas.width = this.width;
    canvas.height = this.height;
    canvas.getContext("2d")!.putImageData(out, 0, 0);
    return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the mask could not be encoded"))), "image/png"));
  }

  private point(event: PointerEvent): { x: number; y: number } {
    const rect = this.maskCanvas.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) * this.width) / rect.width, y: ((event.clientY - rect.top) * this.height) / rect.height };
  }

  /** The brush diameter in the mask's pixels. */
  private get radius(): number {
    const rect = this.maskCanvas.getBoundingClientRect();
    return Math.max(1, (this.size * this.width) / Math.max(1, rect.width) / 2);
  }

  private begin(event: PointerEvent): void {
    if (event.button !== 0 || this.stroke || this.width === 0) return;
    event.preventDefault();
    this.maskCanvas.setPointerCapture(event.pointerId);
    const at = this.point(event);
    this.stroke = { id: event.pointerId, last: at, box: [at.x, at.y, at.x, at.y] };
    this.paint(at, at);
  }

  private extend(event: PointerEvent): void {
    if (!this.stroke || event.pointerId !== this.stroke.id) return;
    // Fast moves deliver several positions per frame: draw through all of them.
    for (const sample of event.getCoalescedEvents?.() ?? [event]) {
      const at = this.point(sample);
      this.paint(this.stroke.last, at);
      this.stroke.last = at;
      const box = this.stroke.box;
      this.stroke.box = [Math.min(box[0], at.x), Math.min(box[1], at.y), Math.max(box[2], at.x), Math.max(box[3], at.y)];
    }
  }

  private end(event: PointerEvent): void {
    if (!this.stroke || event.pointerId !== this.stroke.id) return;
    const pad = this.radius + 2;
    const [x0, y0, x1, y1] = this.stroke.box;
    this.stroke = undefined;
    const x = clamp(Math.floor(x0 - pad), 0, this.width);
    const y = clamp(Math.floor(y0 - pad), 0, this.height);
    const w = clamp(Math.ceil(x1 + pad), 0, this.width) - x;
    const h = clamp(Math.ceil(y1 + pad), 0, this.height) - y;
    if (w <= 0 || h <= 0) return;
    this.record({ x, y, before: this.committed.getImageData(x, y, w, h), after: this.mask.getImageData(x, y, w, h) });
  }

  private paint(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const context = this.mask;
    context.save();
    context.globalCompositeOperation = this.tool === "eraser" ? "destination-out" : "source-over";
    context.strokeStyle = context.fillStyle = PAINT_STYLE;
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = this.radius * 2;
    context.beginPath();
    if (from.x === to.x && from.y === to.y) {
      context.arc(to.x, to.y, this.radius, 0, Math.PI * 2);
      context.fill();
    } else {
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
    }
    context.restore();
  }

  private whole(change: (pixels: Uint8ClampedArray) => void): void {
    if (this.width === 0) return;
    const before = this.mask.getImageData(0, 0, this.width, this.height);
    const after = new ImageData(new Uint8ClampedArray(before.data), this.width, this.height);
    change(after.data);
    this.mask.putImageData(after, 0, 0);
    this.record({ x: 0, y: 0, before, after });
  }

  private record(step: Step): void {
    this.committed.putImageData(step.after, step.x, step.y);
    this.undoSteps.push(step);
    this.redoSteps = [];
    let bytes = this.undoSteps.reduce((sum, s) => sum + s.before.data.length * 2, 0);
    while (this.undoSteps.length > HISTORY_STEPS || (bytes > HISTORY_BYTES && this.undoSteps.length > 1)) {
      const dropped = this.undoSteps.shift()!;
      bytes -= dropped.before.data.length * 2;
    }
    this.onChange();
  }

  private put(pixels: ImageData, x: number, y: number): void {
    this.mask.putImageData(pixels, x, y);
    this.committed.putImageData(pixels, x, y);
  }
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
