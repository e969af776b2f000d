// What the Durable Object calls in kv mode (docs/kv-mode.md, "Wiring"): it
// mirrors the conversation's stored messages into the kv token stream,
// mirrors re-clustered episodes into per-episode caches, decodes a turn
// against the matched episode's cache, and does the block folding and cache
// rebuilds in the background (alarm / waitUntil), never on the turn's path.
//
// Messages enter exactly once, through appendMessages, from the same write
// that stores them for context mode (commitTurn / importMessages), so both
// modes read one conversation. A decoded turn is not written here: it
// arrives with the commit, as every other message does.
import type { KvBackendClient } from "./backend-client";
import type { KvMode } from "./kv-mode";
import { chatOpening, rolePrefix } from "./conversation-kv";
import { clipPrompt } from "./representative-prompt";

export interface KvChatMessage {
  role: string;
  content: string;
}

export interface KvDecodeOptions {
  maxTokens: number;
  /** Ask the backend to pin the turn's KV for this long (seconds) and reuse it next turn; 0/absent = never pin. */
  pinTtlS?: number;
  temperature?: number;
  seed?: number;
}

/** Events of a decoded turn, in order: tokens, then one done (or an error thrown by the iterator). */
export type KvTurnEvent =
  | { type: "token"; token: number; text: string }
  | { type: "done"; finishReason: "stop" | "length"; promptTokens: number; completionTokens: number; cachedEntries: number; episode: number; bytesSent: number; usedHandle: boolean; triedHandle: boolean; folded: number };

export class KvService {
  constructor(readonly mode: KvMode, private readonly client: KvBackendClient) {}

  /** Messages in the chat template, one backend call per batch (the template's leading <|bos|> dropped). */
  private async tokens(messages: readonly KvChatMessage[]): Promise<number[]> {
    if (messages.length === 0) return [];
    const model = this.mode.model;
    const all = await this.client.tokenizeMessages(model.id, messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: m.content ?? "" })));
    return model.bosToken !== null && all[0] === model.bosToken ? all.slice(1) : all;
  }

  /** Appends stored messages to the token stream (the first call opens it with <|bos|>). */
  async appendMessages(messages: readonly KvChatMessage[]): Promise<void> {
    const out: number[] = this.mode.tokenCount() === 0 ? chatOpening(this.mode.model) : [];
    out.push(...(await this.tokens(messages)));
    this.mode.append(out);
  }

  /** Episodes after (re-)clustering: id and representative prompt text (EpiCache step 3). */
  async setEpisodes(episodes: readonly { id: number; prompt: string }[]): Promise<{ queued: number[] }> {
    const next = [];
    for (const e of episodes) next.push({ id: e.id, promptTokens: clipPrompt(await this.client.tokenize(this.mode.model.id, e.prompt), this.mode.model.maxPromptTokens) });
    return this.mode.setEpisodes(next);
  }

  /**
   * Decodes a turn: `newMessages` are the request's messages not yet stored
   * (usually the user's question); they go after the uncompressed tail,
   * followed by the assistant's role prefix. Streams tokens as they arrive.
   */
  async *decode(newMessages: readonly KvChatMessage[], episode: number | null, options: KvDecodeOptions, handle?: string): AsyncGenerator<KvTurnEvent> {
    if (this.mode.tokenCount() === 0) this.mode.append(chatOpening(this.mode.model)); // the stream opens with <|bos|>, if the format has one
    const query = [...(await this.tokens(newMessages)), ...rolePrefix(this.mode.model, "assistant")];
    const turn = this.mode.turn(episode, query, options, handle);
    const it = this.client.decodeStream(turn.request, turn.kv);
    for (;;) {
      const n = await it.next();
      if (n.done) {
        const d = n.value;
        if (typeof d.kv_handle === "string" && typeof d.kv_handle_expires_at === "string") {
          // The pinned KV covers what this call fed after its start position; by handle that starts later.
          const fed = d.usedHandle ? turn.kv.handleRequest! : turn.request;
          this.mode.recordPin(turn.cache, d.kv_handle, d.kv_handle_expires_at, fed, d.tokens ?? [], turn.folded);
        }
        yield {
          type: "done",
          finishReason: d.finish_reason === "length" ? "length" : "stop",
          promptTokens: d.usage?.prompt_tokens ?? 0,
          completionTokens: d.usage?.completion_tokens ?? 0,
          cachedEntries: d.usage?.cached_entries ?? 0,
          episode: turn.episode,
          bytesSent: d.bytesSent,
          usedHandle: d.usedHandle,
          // A handle was offered: a pin hit when the backend used it, a miss when it answered 409 and took the bytes.
          triedHandle: turn.kv.handle !== undefined,
          // What the backend's cached_entries counts: the cache as the request was built, not after a fold during the decode.
          folded: turn.folded,
        };
        return;
      }
      yield { type: "token", token: n.value.token, text: n.value.text };
    }
  }

  /** Background work: fold complete blocks, then run queued rebuilds (the alarm calls this). */
  async background(): Promise<{ blocks: number; rebuilt: number[] }> {
    const { blocks } = await this.mode.fold();
    const rebuilt = await this.mode.runRebuilds();
    return { blocks, rebuilt };
  }
}
