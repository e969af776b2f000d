// Everyday topics a generated user talks about between facts: the bulk of a
// long conversation, and the haystack the evidence hides in. Templates use
// `{slot}` names from the topic's own `slots` or from the shared pools
// (`{city}`, `{name}`, `{dish}`, …, see generate-conversations.ts).
// Several topics deliberately reuse words that also occur in facts and
// questions (coffee, flight, dentist, code, password, parking, book) so that
// word overlap alone does not find the evidence.

export interface Topic {
  name: string;
  /** Slot pools local to this topic. */
  slots: Record<string, readonly string[]>;
  user: readonly string[];
  assistant: readonly string[];
}

export const topics: readonly Topic[] = [
  {
    name: "cooking",
    slots: {
      ingredient: ["shallots", "miso", "smoked paprika", "fresh thyme", "brown butter", "preserved lemon", "capers", "crème fraîche"],
      tool: ["cast iron pan", "dutch oven", "rice cooker", "stand mixer", "mandoline", "wok"],
    },
    user: [
      "I'm making {dish} tonight, any tips for getting the {ingredient} right?",
      "My {dish} came out bland last time. Would more {ingredient} help?",
      "Is it worth buying a {tool} if I only cook {dish} once a month?",
      "What could I serve alongside {dish} for six people?",
      "Can I prep the {dish} the day before or does it go soggy?",
      "I burned the {ingredient} again, how do you keep it from scorching?",
    ],
    assistant: [
      "For {dish}, add the {ingredient} late and taste as you go; a pinch of salt at the end often does more than another spoonful.",
      "A {tool} helps with even heat, but for a monthly {dish} a heavy pan you already own will do the job.",
      "Try a crisp green salad with a sharp vinaigrette next to {dish}; it cuts the richness and takes ten minutes.",
      "You can make most of it ahead. Keep the sauce and the {ingredient} separate and combine them when you reheat.",
      "Lower the heat and keep things moving in the pan. {ingredient} turns bitter within seconds once it catches.",
    ],
  },
  {
    name: "gardening",
    slots: {
      plant: ["tomatoes", "basil", "lavender", "dahlias", "courgettes", "strawberries", "rosemary", "sweet peas"],
      problem: ["yellow leaves", "aphids", "powdery mildew", "leggy stems", "slugs", "blossom end rot"],
    },
    user: [
      "My {plant} on the balcony have {problem}. What am I doing wrong?",
      "When is the right time to move the {plant} outside?",
      "Should I water the {plant} in the morning or the evening?",
      "Do {plant} do well next to {plant2}?",
      "I want a low-effort balcony garden. Are {plant} a good start?",
    ],
    assistant: [
      "{problem} on {plant} usually points to watering or airflow; check the soil a finger deep before watering again.",
      "Wait until nights stay above about ten degrees, then harden the {plant} off over a week.",
      "Morning watering is best: leaves dry during the day, which keeps fungal problems like {problem} down.",
      "{plant} and {plant2} get along fine if each has room and sun; crowding invites {problem}.",
    ],
  },
  {
    name: "running",
    slots: {
      distance: ["5k", "10k", "half marathon", "trail 15k", "park run"],
      pain: ["shin splints", "a tight calf", "a sore knee", "blisters", "a stitch"],
    },
    user: [
      "I'm training for a {distance}. How many runs a week is sensible?",
      "I keep getting {pain} after long runs. Any advice?",
      "Is it fine to run two days in a row before a {distance}?",
      "My pace dropped this week, should I worry?",
      "What should I eat the night before a {distance}?",
    ],
    assistant: [
      "Three runs a week works for most {distance} plans: one easy, one with some speed, one long and slow.",
      "{pain} is often a sign of ramping up too fast. Cut the volume a little and add calf raises.",
      "Back-to-back days are fine if one of them is genuinely easy. Listen to {pain} if it shows up.",
      "Pace moves around with sleep, heat and stress. Look at the trend over a month, not one week.",
    ],
  },
  {
    name: "travel",
    slots: {
      thing: ["a rail pass", "travel insurance", "a carry-on only bag", "a local SIM", "museum tickets"],
      season: ["spring", "late summer", "the shoulder season", "winter"],
    },
    user: [
      "Thinking about a week in {city} in {season}. Is that a good time?",
      "Is {thing} worth it for a trip to {city}?",
      "What's a good neighbourhood to stay in {city}?",
      "How many days do you need to see {city} properly?",
      "Any tips for dealing with jet lag after a long flight?",
    ],
    assistant: [
      "{season} is a nice time for {city}: fewer crowds and milder prices, though some places keep shorter hours.",
      "{thing} pays off if you move around a lot; for a single base in {city} it rarely does.",
      "Stay somewhere walkable near the old centre of {city}; you will spend less time in transit.",
      "Get daylight early on your first morning and keep the first day light; it helps the body clock more than anything.",
    ],
  },
  {
    name: "home",
    slots: {
      room: ["bathroom", "hallway", "spare bedroom", "kitchen", "attic"],
      job: ["repainting", "retiling", "fixing a leaky tap", "installing shelves", "replacing the skirting boards"],
    },
    user: [
      "We're {job} in the {room} this weekend. Anything I should know?",
      "How long does {job} usually take for a small {room}?",
      "Should I hire someone for {job} or do it myself?",
      "The {room} gets damp in winter, what can I do?",
      "Our landlord wants a new door code system, is that a hassle?",
    ],
    assistant: [
      "For {job}, prep is most of the work: clear the {room}, protect the floor and have everything at hand before you start.",
      "A small {room} is usually a weekend for {job} if nothing unexpected turns up behind the walls.",
      "If {job} involves water or electrics, get a professional; otherwise it is a good first project.",
      "Damp in a {room} usually needs airflow first: open a window after showers and keep furniture off outside walls.",
    ],
  },
  {
    name: "work",
    slots: {
      thing: ["the quarterly report", "a migration plan", "the onboarding docs", "a vendor contract", "the roadmap"],
      person: ["my manager", "the new hire", "a client", "the finance team", "our designer"],
    },
    user: [
      "I have to present {thing} to {person} on Friday and I'm nervous.",
      "{person} keeps changing the requirements for {thing}. How do I push back?",
      "How do I say no to extra work without sounding lazy?",
      "Long day. The meeting about {thing} ran over by an hour.",
      "Any tips for writing {thing} so people actually read it?",
    ],
    assistant: [
      "Lead with the decision you need from {person}, then the two or three facts that support it; details go in an appendix.",
      "Write down what changed and when, then ask {person} which version of {thing} is the one to deliver.",
      "Say what you are working on and ask which item should move to make room; it frames the trade-off without refusing.",
      "Put a summary with the conclusion at the top of {thing} and keep paragraphs short.",
    ],
  },
  {
    name: "music",
    slots: {
      genre: ["bossa nova", "baroque", "delta blues", "synth pop", "jazz standards", "folk"],
      skill: ["reading sheet music", "keeping time", "playing by ear", "improvising", "finger-picking"],
    },
    user: [
      "I've been listening to a lot of {genre} lately. Any albums to start with?",
      "How do I get better at {skill}?",
      "Is it too late to learn music seriously in my thirties?",
      "What's a good way to practise {skill} for twenty minutes a day?",
    ],
    assistant: [
      "For {genre}, start with a well-known compilation and follow the artists you like from there.",
      "{skill} improves fastest with short, daily sessions and a metronome; record yourself once a week.",
      "It is never too late. Adults often progress quickly because they practise deliberately.",
      "Split twenty minutes into a warm-up, a focused bit of {skill}, and something you enjoy playing.",
    ],
  },
  {
    name: "money",
    slots: {
      thing: ["an emergency fund", "index funds", "paying off the credit card", "a pension top-up", "a savings goal for the holidays"],
    },
    user: [
      "Should I prioritise {thing} or {thing2}?",
      "How much should I keep in {thing}?",
      "I overspent again this month. How do people stick to a budget?",
      "Is it worth paying someone to look at my finances?",
    ],
    assistant: [
      "Usually high-interest debt comes first, then {thing}; the maths favours whatever costs you the most interest.",
      "Three to six months of essential spending is the usual rule of thumb for {thing}.",
      "Automate the saving on payday and give yourself a small guilt-free allowance; willpower alone rarely lasts.",
      "A one-off session with a fee-only adviser can be worth it; avoid anyone paid by commission.",
    ],
  },
  {
    name: "reading",
    slots: {
      genre: ["historical fiction", "science fiction", "memoirs", "crime novels", "essays", "poetry"],
    },
    user: [
      "I want to read more {genre}. Where should I start?",
      "I keep starting books and not finishing them. Is that normal?",
      "Audiobooks or paper for {genre}?",
      "Recommend something short, I only have a weekend.",
    ],
    assistant: [
      "For {genre}, pick a short, well-loved title first; momentum matters more than the perfect choice.",
      "Very normal. Give yourself permission to drop a book after fifty pages; reading should not feel like a chore.",
      "Audiobooks work well for {genre} with a strong narrator; paper is better when you want to reread passages.",
      "A novella or a short essay collection fits a weekend nicely.",
    ],
  },
  {
    name: "tech",
    slots: {
      device: ["laptop", "phone", "router", "printer", "smart speaker", "tablet"],
      issue: ["keeps disconnecting", "is really slow", "won't update", "drains the battery", "overheats"],
    },
    user: [
      "My {device} {issue}. Any ideas?",
      "Should I replace my {device} or try to fix it?",
      "How do I make a strong password I can actually remember?",
      "The {device} {issue} ever since the last update.",
    ],
    assistant: [
      "When a {device} {issue}, start with a restart and a check for updates, then look at what changed recently.",
      "If the {device} is more than five years old and {issue}, replacing it is often cheaper than chasing the fault.",
      "Use a passphrase of four or five random words and a password manager for everything else.",
      "Updates sometimes reset settings; check power and network settings on the {device} first.",
    ],
  },
  {
    name: "health",
    slots: {
      habit: ["sleeping badly", "skipping breakfast", "too much screen time", "not drinking enough water", "sitting all day"],
    },
    user: [
      "I've been {habit} lately. Any small changes that help?",
      "Is it bad that I'm {habit}?",
      "How much does {habit} really matter?",
      "I'm tired all the time this week.",
    ],
    assistant: [
      "Pick one small change for {habit} and tie it to something you already do every day.",
      "Occasional {habit} is not a crisis, but if it lasts weeks it is worth talking to a doctor.",
      "{habit} adds up over months; small consistent changes beat big resolutions.",
      "A week of tiredness often tracks sleep, stress and hydration; if it persists, get a check-up.",
    ],
  },
];

/** Small talk that opens and closes sessions and fills gaps. */
export const greetings = [
  "Hi again!", "Morning! Quick question.", "Hey, I'm back.", "Hello, long time no see.", "Evening. I've got a few things on my mind.",
  "Hi, hope you're well.", "Okay, another day, another question.",
] as const;

export const greetingReplies = [
  "Welcome back! What's on your mind today?", "Hi! Happy to help, what's up?", "Good to see you again. How can I help?",
  "Hello! Go ahead.", "Hey! What would you like to talk about?",
] as const;

export const smallTalk = [
  "The weather here has been all over the place this week.", "I barely slept, the neighbours had a party.",
  "Weekend was nice, we mostly stayed in.", "Traffic was terrible this morning.", "I finally cleaned out the fridge.",
  "{name} from work says hi, I told them about you.", "We watched a documentary about octopuses last night.",
  "I might take Friday off, I'm exhausted.",
] as const;

export const smallTalkReplies = [
  "That sounds like a lot. I hope the rest of the week is calmer.", "Ha, fair enough. Sometimes a quiet weekend is the best kind.",
  "Octopuses are remarkable, they can solve puzzles and change colour in a blink.", "A day off sounds well deserved.",
  "Glad to hear it. What's next on your list?",
] as const;

export const acknowledgements = [
  "Noted, I'll keep that in mind.", "Got it, thanks for telling me.", "Understood, I've made a note of that.",
  "Thanks, that's useful to know.", "Okay, I'll remember that for later.",
] as const;

export const closings = ["Thanks, that helps. Talk later!", "Great, that's all for now.", "Cheers, bye for now.", "Perfect, thank you!"] as const;

export const closingReplies = ["Anytime. Talk soon!", "You're welcome, good luck!", "Glad I could help. Bye!", "Take care!"] as const;
