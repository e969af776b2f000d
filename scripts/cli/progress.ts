// A progress bar on stderr: redrawn in place on a terminal, one line per
// tenth of the work otherwise (CI logs), so stdout stays clean for tables
// and --json.
export interface Progress {
  update(done: number, note?: string): void;
  done(note?: string): void;
}

export function progressBar(total: number, label: string, out: NodeJS.WriteStream = process.stderr, width = 30): Progress {
  const tty = Boolean(out.isTTY);
  let lastTenth = -1;
  const render = (done: number, note = "") => {
    const f = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(f * width);
    return `${label} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${done}/${total}${note ? " " + note : ""}`;
  };
  return {
    update(done, note) {
      if (tty) out.write(`\r${render(done, note)}\x1b[K`);
      else {
        const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
        if (tenth > lastTenth) {
          lastTenth = tenth;
          out.write(render(done, note) + "\n");
        }
      }
    },
    done(note) {
      if (tty) out.write(`\r${render(total, note)}\x1b[K\n`);
      else if (lastTenth < 10) out.write(render(total, note) + "\n");
    },
  };
}
