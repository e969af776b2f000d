// The word-level vocabulary of the recall models (docs/recall-model.md):
// topics (the sessions of a synthetic chat), each with its entities; the
// values an entity can be bound to; and the other words the chats use.
// Entities and values are the only words the constructed model tells apart.
import { SPECIAL_TOKENS } from "../../backend/model/tokenizer";
import { UNKNOWN_TOKEN, WORD_VOCAB_FORMAT, type WordVocabulary } from "../../backend/model/word-tokenizer";

export interface Topic {
  name: string;
  entities: string[];
  /** Words of the topic's small talk (chat filler between facts). */
  chatter: string[];
}

export const TOPICS: readonly Topic[] = [
  { name: "garden", entities: ["tomato", "basil", "hedge", "compost", "shed", "fence", "pond"], chatter: ["garden", "soil", "rain", "seeds", "weeds", "sunny", "water", "plant"] },
  { name: "travel", entities: ["train", "hotel", "museum", "tram", "flight", "ferry", "luggage"], chatter: ["travel", "trip", "city", "ticket", "station", "map", "beach", "booked"] },
  { name: "money", entities: ["rent", "insurance", "savings", "salary", "loan", "pension", "tax"], chatter: ["money", "budget", "bank", "bills", "cost", "spend", "month", "paid"] },
  { name: "pet", entities: ["puppy", "vet", "leash", "crate", "collar", "kennel", "groomer"], chatter: ["dog", "walk", "park", "treats", "bark", "sleep", "fur", "play"] },
  { name: "home", entities: ["wifi", "locker", "alarm", "boiler", "garage", "mailbox", "doorbell"], chatter: ["house", "kitchen", "repair", "door", "room", "light", "clean", "keys"] },
  { name: "work", entities: ["manager", "project", "deadline", "meeting", "office", "badge", "laptop"], chatter: ["work", "team", "email", "report", "desk", "busy", "plan", "call"] },
  { name: "health", entities: ["doctor", "dentist", "pharmacy", "gym", "trainer", "vitamin", "clinic"], chatter: ["health", "sleep", "run", "tired", "diet", "stretch", "fit", "rest"] },
  { name: "family", entities: ["sister", "brother", "cousin", "uncle", "aunt", "nephew", "grandma"], chatter: ["family", "visit", "dinner", "birthday", "gift", "phone", "weekend", "home"] },
];

/** Words an entity is bound to ("my E is V"); a value is copied, never computed. */
export const VALUES: readonly string[] = [
  "amber", "birch", "cobalt", "dune", "ember", "falcon", "garnet", "harbor", "indigo", "jasper", "kestrel", "lagoon", "maple", "nectar", "onyx", "pebble",
  "quartz", "raven", "saffron", "thistle", "umber", "violet", "willow", "xenon", "yarrow", "zephyr", "acorn", "bramble", "cedar", "delta", "fennel", "glacier",
  "hazel", "iris", "juniper", "kelp", "lotus", "meadow", "nimbus", "orchid", "poppy", "quill", "ripple", "sable", "tundra", "upland", "velvet", "wren",
  "yonder", "zinnia", "alder", "beacon", "coral", "drift", "echo", "flint", "grove", "heron", "ivory", "jade", "lark", "marble", "nova", "opal",
];

/** Function words of statements, questions and replies. */
export const FUNCTION_WORDS: readonly string[] = [
  "?", ".", ",", "!", ":", ";", '"', "what", "is", "my", "the", "a", "and", "to", "of", "that", "remember", "note", "by", "way", "now", "actually", "changed",
  "so", "too", "ok", "noted", "got", "it", "thanks", "let", "us", "talk", "about", "today", "was", "we", "i", "you", "will", "keep", "in", "mind", "sure", "tell", "me",
  "again", "also", "new", "session", "back", "more", "on", "with", "this", "for", "nice", "good", "great", "some", "very", "all",
];

export const ENTITIES: readonly string[] = TOPICS.flatMap((t) => t.entities);

/** Every word once, in id order after the special tokens. */
export function vocabularyWords(): string[] {
  const words = [...FUNCTION_WORDS, ...new Set(TOPICS.flatMap((t) => t.chatter)), ...TOPICS.map((t) => t.name), ...ENTITIES, ...VALUES];
  const seen = new Set<string>();
  return words.filter((w) => !seen.has(w) && seen.add(w));
}

export function recallVocabulary(): WordVocabulary {
  return { format: WORD_VOCAB_FORMAT, special_tokens: [...SPECIAL_TOKENS, UNKNOWN_TOKEN], words: vocabularyWords() };
}

/** What scripts/train/recall_data.py reads (scripts/train/recall-words.json; a test keeps it equal to this). */
export function trainingWords(): { topics: Topic[]; values: string[]; vocabulary: WordVocabulary } {
  return { topics: TOPICS.map((t) => ({ ...t })), values: [...VALUES], vocabulary: recallVocabulary() };
}
