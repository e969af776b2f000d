// Reads and validates a chat request for either chat route: the body (415,
// 413, 400 for bad JSON or nesting), the shared checks of
// worker/validation/chat-turn.ts, then the model against what that route
// serves (404 model_not_found, as OpenAI answers). Nothing here touches a
// conversation, so a refused request writes nothing.
import type { Context } from "hono";
import type { Env } from "../env";
import { ApiError } from "../http/api-error";
import { readJsonBody } from "../http/json-body";
import { maxBodyBytes } from "../http/body-limit";
import { maxMessagesPerRequest } from "../limits/request-limits";
import { parseChatTurn, type ChatTurnInput } from "../validation/chat-turn";
import { backendSpecs } from "../backend/pool-backend";
import { backendsForModel } from "../backend/pool";
import { EPIKV_MODEL_ALIASES } from "./upstream-request";
import { kvModelNames } from "../kv/kv-models";

export async function readChatTurn(c: Context<{ Bindings: Env }>, mode: "context" | "kv"): Promise<ChatTurnInput> {
  const body = await readJsonBody(c.req.raw, maxBodyBytes(c.env));
  const input = parseChatTurn(body, { conversationId: c.req.header("x-conversation-id"), idempotencyKey: c.req.header("idempotency-key") }, maxMessagesPerRequest(c.env), mode);
  const model = input.request.model;
  if (model !== undefined) {
    const kvModels = mode === "kv" ? kvModelNames(c.env) : [];
    if (mode === "kv" && !kvModels.includes(model)) {
      throw new ApiError(404, `The model \`${model}\` does not exist in kv mode; models served here: ${kvModels.join(", ")} (GET /v1/kv/models)`, "not_found_error", "model", "model_not_found");
    }
    // An explicit unknown model is refused before the turn waits for its conversation.
    if (mode === "context" && !EPIKV_MODEL_ALIASES.includes(model)) backendsForModel(backendSpecs(c.env), model);
  }
  return input;
}
