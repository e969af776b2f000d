// How backend and Durable Object errors reach the client: a backend 4xx that
// judges the request keeps its status and error fields (SDKs do not retry
// it); everything else from a backend is a 502; a Durable Object error keeps
// its whole detail across the RPC prefix.
import { describe, expect, it } from "vitest";
import { passedThrough } from "../../worker/backend/upstream-errors";
import { conversationErrorDetail, toApiError } from "../../worker/http/api-error";
import { isRetryable } from "../../worker/backend/retry";

describe("backend errors", () => {
  it("passes an unknown model through as 404 model_not_found, and a bad parameter as 400 naming it", () => {
    const notFound = passedThrough(404, JSON.stringify({ error: { message: 'model "x" is not served here', type: "invalid_request_error", code: "model_not_found", param: "model" } }))!;
    expect([notFound.status, notFound.code, notFound.param, notFound.type]).toEqual([404, "model_not_found", "model", "not_found_error"]);
    expect(notFound.message).toContain('model "x" is not served here');
    const bad = passedThrough(400, JSON.stringify({ error: { message: "temperature must be a number in [0, 2]", code: "invalid_request", param: "temperature" } }))!;
    expect([bad.status, bad.code, bad.param]).toEqual([400, "invalid_request", "temperature"]);
    expect(isRetryable(bad)).toBe(false);
    expect(passedThrough(422, "not json")!.message).toBe("backend: not json");
  });

  it("keeps 502 for backend faults: 5xx, 429, 408, and 401/403 on epikv's own backend key", () => {
    for (const status of [500, 503, 429, 408, 401, 403, 407]) expect(passedThrough(status, "{}")).toBeNull();
  });
});

describe("Durable Object errors", () => {
  it("strip exactly the error name and code, whatever the name's length", () => {
    for (const raw of ["history_conflict: the request matches", "HistoryConflictError: history_conflict: the request matches", "InvalidConversationRequestError: invalid_request: the request matches", "Error: invalid_request: the request matches"]) {
      expect(conversationErrorDetail(raw)).toBe("the request matches");
    }
    const e = toApiError(new Error("InvalidConversationRequestError: invalid_request: messages must not be empty"));
    expect([e.status, e.code, e.message]).toEqual([400, "invalid_request", "messages must not be empty"]);
  });
});
