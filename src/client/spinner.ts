// A one-line "waiting... 12s" on stderr while an edit runs; silent when stderr is
// not a terminal, so logs and pipes stay clean. Its line is erased when it stops,
// and by stopSpinners() when the process is interrupted.

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Spinner {
  stop(): void;
}

const running = new Set<Spinner>();

export function startSpinner(label: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!stream.isTTY) return { stop() {} };
  const started = Date.now();
  let frame = 0;
  const draw = () => stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} ${Math.floor((Date.now() - started) / 1000)}s `);
  draw();
  const timer = setInterval(draw, 100);
  const spinner: Spinner = {
    stop() {
      if (!running.delete(spinner)) return;
      clearInterval(timer);
      stream.write("\r\x1b[2K");
    },
  };
  running.add(spinner);
  return spinner;
}

/** Stops every running spinner and erases its line (before a message on Ctrl-C). */
export function stopSpinners(): void {
  for (const spinner of [...running]) spinner.stop();
}
