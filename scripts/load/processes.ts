// Child processes of the load test (loopback only, own process groups,
// stopped by pid) and their resident memory, read from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { stopProcessGroup } from "../../testing/process-group";

export interface Child {
  pid: number;
  url: string;
  stop: () => Promise<void>;
}

/** Starts `node script args…` and waits for the first stdout line (its URL). */
export async function startChild(script: string, args: string[], timeoutMs = 20_000): Promise<Child> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed no URL within ${timeoutMs} ms: ${err}`)), timeoutMs);
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0]!;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}): ${err}`)));
  });
  const pid = child.pid!;
  return {
    pid,
    url,
    stop: () => stopProcessGroup(child),
  };
}

function statusField(pid: number, field: string): string | null {
  try {
    const m = new RegExp(`^${field}:\\s*(.*)$`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? m[1]!.trim() : null;
  } catch {
    return null;
  }
}

/** Resident set size of one process in MiB (0 if gone). */
export function rssMiB(pid: number): number {
  const v = statusField(pid, "VmRSS");
  return v ? Number(v.split(/\s+/)[0]) / 1024 : 0;
}

/** Fields of /proc/<pid>/stat after the command name (field 3 onward), and the name; null if gone. */
function procStat(pid: number | string): { comm: string; fields: string[] } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    return { comm: stat.slice(stat.indexOf("(") + 1, close), fields: stat.slice(close + 2).split(" ") };
  } catch {
    return null; // exited meanwhile
  }
}

/** Processes whose command name contains `name` and whose stat field `index` (after the name) is `value`. */
function processesWhere(index: number, value: number, name?: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(entry);
    if (s && Number(s.fields[index]) === value && (!name || s.comm.includes(name))) out.push(Number(entry));
  }
  return out;
}

/** Processes in a process group whose command name contains `name`. */
export function groupMembers(pgid: number, name?: string): number[] {
  return processesWhere(2, pgid, name);
}

/** Direct children of `ppid` whose command name contains `name`. */
export function childrenOf(ppid: number, name?: string): number[] {
  return processesWhere(1, ppid, name);
}

/** CPU time (user + system) a process has used, in ms (0 if gone); /proc counts in clock ticks of 10 ms. */
export function cpuMs(pid: number): number {
  const s = procStat(pid);
  return s ? (Number(s.fields[11]) + Number(s.fields[12])) * 10 : 0;
}

/** Peak RSS per label, sampled every `everyMs` until stop() is called. */
export function sampleMemory(targets: Record<string, () => number[]>, everyMs = 1000): { stop: () => Record<string, number> } {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(targets).map((k) => [k, 0]));
  const sample = () => {
    for (const [label, pids] of Object.entries(targets)) {
      const total = pids().reduce((s, pid) => s + rssMiB(pid), 0);
      peak[label] = Math.max(peak[label]!, total);
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
