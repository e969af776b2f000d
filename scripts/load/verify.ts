// After the epikv phase: read back every conversation's messages and compare
// them with what the client saw succeed. A successful turn must be stored
// exactly once, as [user, reply], in order; a failed turn must be stored not
// at all — or, if the client gave up (timeout) after the server committed,
// exactly once (counted apart, never as a duplicate).
import { conversationId, type TurnRecord } from "./drive";

export interface Verification {
  conversations: number;
  expectedMessages: number;
  storedMessages: number;
  lost: number;
  duplicated: number;
  committedAfterClientError: number;
  unexpected: number;
  readErrors: number;
}

async function readAll(baseUrl: string, headers: Record<string, string>, id: string): Promise<{ role: string; content: string }[] | null> {
  const out: { role: string; content: string }[] = [];
  let after = -1;
  for (;;) {
    const res = await fetch(`${baseUrl}/conversations/${id}/messages?limit=1000${after >= 0 ? `&after=${after}` : ""}`, { headers });
    if (res.status === 404) return out;
    if (!res.ok) return null;
    const page = (await res.json()) as { data: { role: string; content: string }[]; next_after: number | null };
    out.push(...page.data);
    if (page.next_after === null) return out;
    after = page.next_after;
  }
}

export async function verify(baseUrl: string, headers: Record<string, string>, runTag: string, records: readonly TurnRecord[], concurrency = 32): Promise<Verification> {
  const bySession = new Map<number, TurnRecord[]>();
  for (const r of records) bySession.set(r.session, [...(bySession.get(r.session) ?? []), r]);
  const v: Verification = { conversations: bySession.size, expectedMessages: 0, storedMessages: 0, lost: 0, duplicated: 0, committedAfterClientError: 0, unexpected: 0, readErrors: 0 };
  const sessions = [...bySession.entries()];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < sessions.length) {
        const [session, turns] = sessions[next++]!;
        const stored = await readAll(baseUrl, headers, conversationId(runTag, session));
        if (stored === null) {
          v.readErrors++;
          continue;
        }
        v.storedMessages += stored.length;
        const count = new Map<string, number>();
        for (const m of stored) count.set(`${m.role}\u0000${m.content}`, (count.get(`${m.role}\u0000${m.content}`) ?? 0) + 1);
        const take = (role: string, content: string) => {
          const k = `${role}\u0000${content}`;
          const n = count.get(k) ?? 0;
          if (n > 0) count.set(k, n - 1);
          return n > 0;
        };
        for (const t of [...turns].sort((a, b) => a.turn - b.turn)) {
          if (!t.error) {
            v.expectedMessages += 2;
            if (!take("user", t.user)) v.lost++;
            if (!take("assistant", t.reply!)) v.lost++;
          } else if (take("user", t.user)) {
            v.committedAfterClientError++;
            count.forEach((n, k) => {
              if (n > 0 && k.startsWith("assistant\u0000") && k.includes(t.user.slice(0, 40))) {
                count.set(k, n - 1);
              }
            });
          }
        }
        // Whatever is left was stored more often than the client saw it succeed.
        for (const [k, n] of count) if (n > 0) (k.startsWith("user\u0000") || stored.filter((m) => `${m.role}\u0000${m.content}` === k).length > 1 ? (v.duplicated += n) : (v.unexpected += n));
        // Order: each stored reply directly follows its own question.
        for (let i = 1; i < stored.length; i += 2) if (stored[i]!.role !== "assistant" || !stored[i]!.content.includes(stored[i - 1]!.content.slice(0, 30))) v.unexpected++;
      }
    }),
  );
  return v;
}
