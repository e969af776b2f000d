// Generic parts the dialogue style (generate-dialogues.ts) composes fact
// statements from, around a kind's own parts (corpus/dialogue-facts.ts):
// lead-ins, trailers, one-message frames naming `{entity}`, the follow-up
// exchange (the thing named in one message, its value in a later one), and
// dated session openers for temporal questions. `{v}` is the value as spoken.

export const leadIns = [
  "By the way, ", "Oh, before I forget: ", "Quick one: ", "Not important, but ", "Something for the record: ", "So, ",
  "Right, ", "Okay, ", "Also, ", "Random, but ", "While I think of it, ", "",
] as const;

export const trailers = [
  "", ", just so you have it", ", don't let me forget", ", in case I ask later", " (finally sorted)", ", for what it's worth",
  ", if anyone asks", ", as of today",
] as const;

export const updateLeadIns = ["Change of plan: ", "Update: ", "Small correction: ", "Heads up, ", "So, news: ", "Ugh, ", ""] as const;

/** One-message statements of any kind. */
export const sayFrames = ["{entity} is {v}", "{v} is {entity}", "{entity}? That's {v}", "note down {entity}: {v}"] as const;

/** One-message updates of any kind that can change. */
export const updateFrames = ["{entity} is {v} now, not {old}", "{entity} changed to {v}", "{entity} is {v} from now on", "forget {old}, {entity} is {v}"] as const;

/** Follow-up: the user names the thing, the assistant asks, the user gives the value. */
export const mentionFrames = [
  "I need you to hold on to {entity} for me", "{entity} is something I keep forgetting", "can you keep track of {entity}?",
  "let me give you {entity} before I lose it",
] as const;
export const askBack = ["Sure, what is it?", "Of course. Go ahead.", "Happy to. What should I write down?", "Okay, tell me and I'll keep it."] as const;
export const updateMentions = ["{entity} changed", "they changed {entity} on me", "I have to correct {entity}"] as const;
export const updateAskBack = ["Oh, what's the new one?", "Got it, what is it now?", "Okay, what did it change to?"] as const;
export const valueReplies = ["It's {v}.", "{v}.", "Okay: {v}.", "{v}, and please don't lose it.", "Right, it's {v}."] as const;

/** The assistant names the thing and asks for it; the user answers (entity in the assistant's message, value in the user's). */
export const assistantAsks = ["Do you want me to keep {entity} somewhere safe? What is it?", "By the way, you never told me {entity}. What is it?"] as const;
export const userPrompts = ["I'm sorting out some admin today.", "Let's do some housekeeping.", "I'm tidying up my notes."] as const;

/** A request to change something the assistant arranged (the offer carries the new value). */
export const changeRequests = ["can you move {entity}? {old} doesn't work for me anymore", "{entity} needs changing, {old} is no good, can you sort it?"] as const;

/** Acknowledgements after a fact. */
export const acknowledgements = [
  "Noted.", "Got it, I'll remember.", "Okay, saved.", "Thanks, I've written that down.", "Understood.", "I'll keep that in mind.",
] as const;

/** Dated session openers: `{date}` is the session's day, the answer to "when did I tell you". */
export const datedGreetings = [
  "Hi, it's {date}.", "Morning! {date} already, can you believe it?", "Hello again, today is {date}.", "Back on {date} with a few things.",
  "Hey, {date} here, busy day ahead.",
] as const;
