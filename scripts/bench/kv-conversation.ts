// A long multi-episode conversation for the kv policy benchmark: four topics
// visited in turns of several messages each, so that EpiCache's episodes
// (k-means over segment embeddings) have something to find, and questions
// that each belong to one topic.

const TOPICS: { name: string; facts: string[]; question: string }[] = [
  {
    name: "garden",
    facts: ["tomatoes need full sun and a deep watering every morning", "basil grows beside the roses along the south fence", "the compost bin needs turning every two weeks", "slugs ate the lettuce seedlings last spring", "the apple tree was pruned in late February"],
    question: "When should I water the tomatoes in the garden?",
  },
  {
    name: "trip",
    facts: ["the train to Lisbon leaves at nine from the central station", "the hotel is near the river in the Alfama district", "the museum closes at six on Mondays", "we booked a tram tour for Thursday morning", "pack a rain jacket because April is wet"],
    question: "What time does the train to Lisbon leave?",
  },
  {
    name: "budget",
    facts: ["rent of 1450 is due on the first of the month", "groceries cost about 120 a week this year", "the car insurance renews in September", "we save 300 each month for the holiday fund", "the electricity bill doubled in January"],
    question: "How much is the rent and when is it due?",
  },
  {
    name: "puppy",
    facts: ["the puppy chewed the sofa cushion again", "two long walks a day keep her calm", "the vet appointment for vaccines is on Friday", "she sleeps in the crate next to the bed", "training treats work better than toys"],
    question: "When is the puppy's vet appointment?",
  },
];

export interface BenchMessage {
  role: "user" | "assistant";
  content: string;
  topic: number;
}

/** Messages until about `chars` characters, topic by topic in runs of `run` messages. */
export function benchConversation(chars: number, run = 6): BenchMessage[] {
  const out: BenchMessage[] = [];
  let total = 0;
  for (let i = 0; total < chars; i++) {
    const topic = Math.floor(i / run) % TOPICS.length;
    const t = TOPICS[topic];
    const fact = t.facts[(i * 7 + Math.floor(i / run)) % t.facts.length];
    const content = i % 2 === 0 ? `Remind me about the ${t.name}: ${fact}?` : `Noted for the ${t.name}: ${fact}. Anything else on the ${t.name}?`;
    out.push({ role: i % 2 === 0 ? "user" : "assistant", content, topic });
    total += content.length + 2;
  }
  return out;
}

export function benchQuestions(): { topic: number; text: string }[] {
  return TOPICS.map((t, topic) => ({ topic, text: t.question }));
}
