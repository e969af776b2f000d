// Passive health of backends, per isolate: a backend that failed (connect
// error, 5xx, timeout) is "cooling down" for BACKEND_COOLDOWN_MS, doubled for
// each further consecutive failure (capped at 8×), and is tried after the
// healthy ones; one success clears it. Nothing is ever excluded outright —
// with every backend cooling down, they are still tried in order.

export const DEFAULT_COOLDOWN_MS = 10_000;
const MAX_COOLDOWN_FACTOR = 8;

interface HealthRecord {
  failures: number;
  until: number;
}

export class BackendHealth {
  private readonly records = new Map<string, HealthRecord>();

  isHealthy(name: string, now: number): boolean {
    const r = this.records.get(name);
    return r === undefined || r.until <= now;
  }

  markFailure(name: string, now: number, cooldownMs: number): void {
    const failures = (this.records.get(name)?.failures ?? 0) + 1;
    const factor = Math.min(MAX_COOLDOWN_FACTOR, 2 ** (failures - 1));
    this.records.set(name, { failures, until: now + cooldownMs * factor });
  }

  markSuccess(name: string): void {
    this.records.delete(name);
  }

  snapshot(now: number): { name: string; failures: number; healthy: boolean }[] {
    return [...this.records].map(([name, r]) => ({ name, failures: r.failures, healthy: r.until <= now }));
  }
}

/** The isolate's shared record (every request in this isolate learns from the others' failures). */
export const backendHealth = new BackendHealth();
