// A progress bar on stderr when it is a terminal; silent otherwise (logs and pipes stay clean).
export interface Progress {
  update(done: number, total?: number): void;
  done(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  const draw = (done: number, total?: number): void => {
    const width = 30;
    const ratio = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    const text = total ? `${'#'.repeat(filled)}${'-'.repeat(width - filled)} ${Math.round(ratio * 100)}%` : `${done} bytes`;
    stream.write(`\r${label} [${text}]`);
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      draw(done, total);
    },
    done() {
      stream.write('\n');
    },
  };
}
