// The facts a generated user states once and is asked about many sessions
// later. Each kind has statement templates, optional update templates (the
// value changes later in the conversation), direct questions that reuse the
// statement's words, paraphrased questions that avoid them (so lexical
// retrieval cannot win by word overlap alone), and distractor templates: the
// same kind of fact about someone else, with a different value, that a
// retriever can confuse with the real one.
//
// Placement: "incidental" facts come up in the middle of unrelated talk (the
// hard case for topic clusters); "topical" ones in a session about their
// natural topic (`topic`), with their distractors.
//
// Slot `{v}` is always the answer value; it must appear verbatim in the
// evidence message (checked by test/node/eval-generator.test.ts). `{who}` in
// distractors is another person. Other slots are drawn once per fact.
import type { Rng } from "../../../testing/random";
import * as P from "./pools";

export type Slots = Record<string, string>;

export interface FactKind {
  key: string;
  /** The everyday topic (corpus/topics.ts) this fact naturally comes up in, if any: used by "topical" placement. */
  topic?: string;
  draw(rng: Rng): Slots;
  state: readonly string[];
  /** Present when the value can change later; `{old}` is the previous value. */
  update?: readonly string[];
  ask: readonly string[];
  paraphrase: readonly string[];
  /** Asks for both the old and the new value (needs both messages). */
  askHistory?: readonly string[];
  distract: readonly string[];
}

const digits = (rng: Rng, n: number): string => {
  let s = String(rng.int(1, 9));
  while (s.length < n) s += String(rng.int(0, 9));
  return s;
};
const dayOf = (rng: Rng): string => `${P.months[rng.int(0, 11)]} ${rng.int(2, 28)}`;

export const others = [
  "my neighbour", "a coworker of mine", "my friend from college", "my brother-in-law", "the guy across the hall",
  "my old roommate", "one of the parents at school", "my manager",
] as const;

export const factKinds: readonly FactKind[] = [
  {
    key: "gate-code",
    topic: "home",
    draw: (rng) => ({ v: digits(rng, 4) }),
    state: [
      "the gate code for our building is {v}, in case I forget it again",
      "just so it's written down somewhere, the code for the front gate here is {v}",
    ],
    update: [
      "the management changed the gate code this week, it's {v} now instead of {old}",
      "heads up, our building gate code was reset to {v}",
    ],
    ask: ["What is the gate code for my building?", "Can you remind me of the front gate code?"],
    paraphrase: ["Which digits do I punch into the keypad to get inside my apartment complex?", "I'm locked out at the entrance, what number lets me in?"],
    askHistory: ["What was my building's gate code originally, and what did it change to?"],
    distract: ["{who} told me their gate code is {v}, which is way easier to remember than ours", "funny, the gate at {who}'s place opens with {v}"],
  },
  {
    key: "sister-name",
    draw: (rng) => ({ v: rng.pick(P.firstNames), city: rng.pick(P.cities) }),
    state: ["my sister's name is {v}, she lives in {city} now", "my younger sister {v} is the one who moved to {city}"],
    ask: ["What is my sister's name?", "What's the name of my sister who lives in {city}?"],
    paraphrase: ["Who is my female sibling again?", "How is the girl I grew up with as a sibling called?"],
    distract: ["{who} has a sister called {v} too", "{who}'s sister {v} is visiting them next week"],
  },
  {
    key: "pet-name",
    draw: (rng) => ({ v: rng.pick(P.petNames), animal: rng.pick(P.animals) }),
    state: ["we adopted a {animal} on Saturday and named it {v}", "the new {animal} is settling in, we went with {v} as the name"],
    ask: ["What did we name the {animal} we adopted?", "What is our {animal} called?"],
    paraphrase: ["What do we call the newest animal in our household?", "Remind me how our latest furry or feathered family member is known?"],
    distract: ["{who} just got a {animal} as well, they called it {v}", "{who}'s {animal} is named {v}, it's adorable"],
  },
  {
    key: "allergy",
    topic: "cooking",
    draw: (rng) => ({ v: rng.pick(P.allergens) }),
    state: ["I'm allergic to {v}, so please never suggest recipes with {v} in them", "turns out the allergy test came back positive for {v}"],
    ask: ["What am I allergic to?", "Which allergy did my test show?"],
    paraphrase: ["Which ingredient should you keep out of anything you cook up for me?", "What food makes me break out in hives?"],
    distract: ["{who} can't eat {v}, they react badly to it", "{who} has a {v} allergy, so we skip it at potlucks"],
  },
  {
    key: "favourite-colour",
    topic: "home",
    draw: (rng) => ({ v: rng.pick(P.colors) }),
    state: ["my favourite colour has always been {v}", "if you ever need to pick a colour for me, {v} is my absolute favourite"],
    ask: ["What is my favourite colour?", "Which colour did I say I like most?"],
    paraphrase: ["Which shade would I choose if I could only wear one for the rest of my life?", "What hue do I love more than any other?"],
    distract: ["{who} painted their kitchen {v}", "{who} swears by {v} for everything"],
  },
  {
    key: "coffee-order",
    draw: (rng) => ({ v: rng.pick(P.coffeeStyles) }),
    state: ["I take my coffee {v}, every single morning", "my coffee order is always the same: {v}"],
    update: ["I've switched my coffee order, now it's {v} instead of {old}", "new coffee routine: {v} from now on"],
    ask: ["How do I take my coffee?", "What is my usual coffee order?"],
    paraphrase: ["When you make me my breakfast brew, how should it be prepared?", "What do I ask the barista for when I get my caffeine?"],
    askHistory: ["How did I used to drink my coffee, and how do I take it now?"],
    distract: ["{who} drinks their coffee {v}", "{who} orders {v}, which I find strange"],
  },
  {
    key: "flight",
    topic: "travel",
    draw: (rng) => ({ v: dayOf(rng), city: rng.pick(P.cities) }),
    state: ["I booked my flight to {city}, I leave on {v}", "the trip to {city} is set, flying out on {v}"],
    update: ["the airline moved my {city} flight, I now leave on {v} instead of {old}", "my departure to {city} got rescheduled to {v}"],
    ask: ["When is my flight to {city}?", "What date do I fly to {city}?"],
    paraphrase: ["On what day does my upcoming journey abroad begin?", "When am I heading to the airport for that holiday?"],
    askHistory: ["What was the original date of my {city} flight and what is it now?"],
    distract: ["{who} is flying to {city} on {v}", "{who} has a flight on {v} too"],
  },
  {
    key: "dentist",
    topic: "health",
    draw: (rng) => ({ v: `${rng.pick(P.weekdays)} at ${rng.int(8, 16)}:${rng.pick(["00", "15", "30", "45"])}` }),
    state: ["my dentist appointment is on {v}", "I finally booked the dentist for {v}"],
    update: ["the dental office called, my appointment is now {v}, not {old}", "dentist got pushed to {v}"],
    ask: ["When is my dentist appointment?", "What time did I book the dentist?"],
    paraphrase: ["When do I need to show up to get my teeth looked at?", "What's my slot for the check-up on my molars?"],
    askHistory: ["When was my dental appointment first booked, and when is it now?"],
    distract: ["{who} has the dentist on {v}", "{who}'s dentist appointment is {v}"],
  },
  {
    key: "employer",
    topic: "work",
    draw: (rng) => ({ v: rng.pick(P.companies), role: rng.pick(P.jobTitles) }),
    state: ["I accepted the offer, I'm starting at {v} as a {role}", "big news: I'm joining {v} next month as their new {role}"],
    update: ["I handed in my notice, I'm moving to {v} after leaving {old}", "I switched jobs again, I work at {v} now"],
    ask: ["Which company do I work for?", "Where did I start working as a {role}?"],
    paraphrase: ["Who signs my paycheck these days?", "Which organisation employs me at the moment?"],
    askHistory: ["Which company did I first join and where do I work now?"],
    distract: ["{who} just started at {v}", "{who} interviewed at {v} last week"],
  },
  {
    key: "wifi",
    topic: "tech",
    draw: (rng) => ({ v: `${rng.pick(P.wifiWords)}${digits(rng, 3)}` }),
    state: ["the wifi password at home is {v}", "for the record, our home network password is {v}"],
    update: ["I changed the wifi password to {v} after the old one ({old}) leaked", "new router, new wifi password: {v}"],
    ask: ["What is the home wifi password?", "What's our network password at home?"],
    paraphrase: ["A guest wants to get online at my house, what should they type in?", "What do visitors enter to connect their phones to the internet at my place?"],
    askHistory: ["What was the old home wifi password, and what is the new one?"],
    distract: ["the wifi at {who}'s house is {v}", "{who} uses {v} as their password for everything"],
  },
  {
    key: "car",
    draw: (rng) => ({ v: rng.pick(P.cars), colour: rng.pick(P.colors) }),
    state: ["I bought a used {colour} {v} last weekend", "my new car is a {colour} {v}"],
    ask: ["What car did I buy?", "What is the make and model of my {colour} car?"],
    paraphrase: ["What vehicle sits in my driveway?", "Which automobile am I driving around in lately?"],
    distract: ["{who} drives a {v}", "{who} is selling their {v}"],
  },
  {
    key: "mother-birthday",
    draw: (rng) => ({ v: dayOf(rng) }),
    state: ["my mom's birthday is {v}, please remind me to call her", "don't let me forget, mum turns a year older on {v}"],
    ask: ["When is my mom's birthday?", "What is my mother's birthday?"],
    paraphrase: ["On which day should I phone the woman who raised me to celebrate?", "When is the big day for my parent, the one I should phone?"],
    distract: ["{who}'s mom has her birthday on {v}", "{who} is throwing a party on {v}"],
  },
  {
    key: "doctor",
    topic: "health",
    draw: (rng) => ({ v: rng.pick(P.surnames) }),
    state: ["my new GP is Dr. {v} at the clinic on the corner", "I switched family doctors, it's Dr. {v} now"],
    ask: ["What is the name of my new GP?", "Who is my family doctor?"],
    paraphrase: ["Which physician do I see when I feel unwell?", "Who should I book with next time I'm sick?"],
    distract: ["{who} sees Dr. {v}", "Dr. {v} is {who}'s specialist"],
  },
  {
    key: "bike-lock",
    draw: (rng) => ({ v: digits(rng, 5) }),
    state: ["the combination for my bike lock is {v}", "I set the code on the new bike lock to {v}"],
    ask: ["What is the combination of my bike lock?", "What code opens my bike lock?"],
    paraphrase: ["Which numbers free my bicycle from the rack outside the office?", "How do I unchain the two-wheeler I ride to work?"],
    distract: ["{who}'s bike lock uses {v}", "{who} keeps their locker shut with {v}"],
  },
  {
    key: "parking",
    topic: "work",
    draw: (rng) => ({ v: `level ${rng.int(1, 5)}, spot ${rng.int(10, 240)}` }),
    state: ["my assigned parking at work is {v}", "they gave me a permanent parking space at the office: {v}"],
    update: ["facilities moved my parking space to {v}, it used to be {old}", "new parking assignment at work: {v}"],
    ask: ["Where is my parking spot at work?", "What is my assigned parking space at the office?"],
    paraphrase: ["Where should I leave the car when I arrive at my job?", "Which bay in the company garage is mine?"],
    askHistory: ["Where did I use to park at work, and where is my space now?"],
    distract: ["{who} parks on {v}", "{who} got {v} in the garage"],
  },
  {
    key: "grocery-budget",
    topic: "money",
    draw: (rng) => ({ v: `${rng.int(18, 95) * 10} dollars` }),
    state: ["I'm setting our monthly grocery budget to {v}", "new rule at home: groceries are capped at {v} a month"],
    update: ["we raised the grocery budget to {v} a month, {old} wasn't enough", "grocery cap is now {v}"],
    ask: ["What is our monthly grocery budget?", "How much is our grocery budget per month?"],
    paraphrase: ["How much can we spend on food shopping in a typical four-week stretch?", "What's the ceiling for supermarket spending over four weeks?"],
    askHistory: ["What was our grocery budget at first and what is it now?"],
    distract: ["{who} spends about {v} on groceries", "{who} thinks {v} is a reasonable budget"],
  },
  {
    key: "book-club",
    topic: "reading",
    draw: (rng) => ({ v: rng.pick(P.bookTitles) }),
    state: ["our book club picked {v} for this month", "book club is reading {v}, I need to get a copy"],
    update: ["book club dropped the last pick for {v}", "we changed the book club book to {v}, nobody liked {old}"],
    ask: ["What is my book club reading?", "Which book did the book club pick?"],
    paraphrase: ["Which novel is the literary circle I belong to working through?", "What title do I have to finish before our next literary get-together?"],
    askHistory: ["What book did the book club pick first, and what did they switch to?"],
    distract: ["{who} recommended {v}", "{who}'s reading group did {v} last year"],
  },
  {
    key: "instrument",
    topic: "music",
    draw: (rng) => ({ v: rng.pick(P.instruments), teacher: rng.pick(P.firstNames) }),
    state: ["I signed up for {v} lessons with a teacher named {teacher}", "I've decided to learn the {v}, lessons start Thursday"],
    ask: ["Which instrument am I learning?", "What instrument did I sign up to take lessons on?"],
    paraphrase: ["What am I practising music on these days?", "Which thing do I play in my weekly music class?"],
    distract: ["{who} plays the {v}", "{who} is selling an old {v}"],
  },
  {
    key: "sport",
    topic: "running",
    draw: (rng) => ({ v: rng.pick(P.sports) }),
    state: ["I joined a {v} club, practice is twice a week", "my new hobby is {v}, I'm hooked"],
    ask: ["Which sport club did I join?", "What is my new hobby sport?"],
    paraphrase: ["What physical activity have I taken up recently?", "What do I do regularly now to stay in shape?"],
    distract: ["{who} does {v}", "{who} tried {v} and hurt their shoulder"],
  },
  {
    key: "street",
    topic: "home",
    draw: (rng) => ({ v: `${rng.int(3, 190)} ${rng.pick(P.streetNames)} Road` }),
    state: ["we finally moved, the new address is {v}", "our new place is at {v}"],
    ask: ["What is my new address?", "Where is our new place?"],
    paraphrase: ["Where should packages for me be delivered now?", "Where do I live since the move?"],
    distract: ["{who} lives at {v}", "{who} is renting at {v}"],
  },
  {
    key: "anniversary",
    draw: (rng) => ({ v: dayOf(rng), partner: rng.pick(P.firstNames) }),
    state: ["{partner} and I have our wedding anniversary on {v}", "our anniversary is {v}, I want to plan something for {partner}"],
    ask: ["When is our wedding anniversary?", "What date is my anniversary with {partner}?"],
    paraphrase: ["When did my spouse and I get married? I'd like to celebrate.", "Which day marks another year of being husband and wife for us?"],
    distract: ["{who} got married on {v}", "{who}'s anniversary is {v}"],
  },
  {
    key: "medication",
    topic: "health",
    draw: (rng) => ({ v: `${rng.int(2, 9) * 25} mg`, drug: rng.pick(["vitamin D", "magnesium", "iron", "zinc"]) }),
    state: ["the doctor told me to take {v} of {drug} a day", "my {drug} dose is {v} daily now"],
    ask: ["How much {drug} do I take each day?", "What is my daily {drug} dose?"],
    paraphrase: ["How big is the supplement pill I swallow every morning?", "What quantity of that supplement am I on?"],
    distract: ["{who} takes {v} of {drug}", "{who} was told {v} was too much"],
  },
];

export function factKind(key: string): FactKind {
  const kind = factKinds.find((k) => k.key === key);
  if (!kind) throw new RangeError(`unknown fact kind ${key}`);
  return kind;
}
