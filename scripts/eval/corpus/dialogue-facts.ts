// The facts of the "dialogue" style (generate-dialogues.ts). Each kind draws
// its value and distractors from the plain kind of the same key
// (corpus/facts.ts) but is worded from parts: several names for the thing
// (`entity`), one-message frames (`say`), someone else's version for
// distractors (`other`), and, where the assistant can arrange the thing, a
// request the assistant answers with the value (`request`). The generator
// composes these with corpus/phrasing.ts's lead-ins, frames and trailers, so
// two statements of one kind in a conversation are never the same template.
//
// `{v}` is the answer value and appears verbatim wherever a frame names it;
// `spoken` says how the value is spoken (e.g. "Dr. {v}"). Paraphrased
// questions share no content word with any part of their kind or with the
// generic frames (test/node/eval-dialogues.test.ts).
import { factKind, type FactKind } from "./facts";

export interface DialogueFactKind {
  key: string;
  base: FactKind;
  /** Names of the thing, with their determiner ("the gate code for our building"). */
  entity: readonly string[];
  /** How a generic frame says the value (default "{v}"). */
  spoken?: string;
  /** Kind-specific one-message statements. */
  say: readonly string[];
  /** The same kind of thing belonging to `{who}`, for distractors. */
  other: readonly string[];
  /** Kind-specific update statements (`{old}` is the previous value); the kind changes only when base.update exists. */
  update?: readonly string[];
  /** The user asks the assistant to arrange it; the assistant's `offer` carries the value, or a `choice` of it and `{alt}` that the user settles with `accept`. */
  request?: { ask: readonly string[]; offer: readonly string[]; choice: readonly string[]; accept: readonly string[] };
  /** Direct questions (words of the entity names) and paraphrases (none of the kind's words). */
  ask: readonly string[];
  paraphrase: readonly string[];
  /** How temporal questions name it ("my gate code"). */
  label: string;
}

export const dialogueFactKinds: readonly DialogueFactKind[] = [
  {
    key: "gate-code", base: factKind("gate-code"), label: "the building's gate code",
    entity: ["the gate code for our building", "the code for the front gate", "our building's gate code"],
    say: ["you punch {v} at the front gate of our building", "{v} opens the gate downstairs, that's the building code"],
    other: ["{who}'s gate code", "the gate code at {who}'s building"],
    update: ["management reset the building gate code to {v}", "the front gate takes {v} now, {old} stopped working"],
    ask: ["What is the gate code for our building?", "What's the code for the front gate?"],
    paraphrase: ["Which digits let me into my apartment complex?", "Locked outside the entrance of my block, which digits get me in?"],
  },
  {
    key: "wifi", base: factKind("wifi"), label: "the home wifi password",
    entity: ["the home wifi password", "our wifi password at home", "the password for the home network"],
    say: ["the router at home takes {v} as the wifi password", "we log onto the home network with {v}"],
    other: ["the wifi password at {who}'s place", "{who}'s home network password"],
    update: ["the home wifi password is {v} since the router reset", "I swapped the wifi password at home from {old} to {v}"],
    request: {
      ask: ["can you suggest a strong password for the home wifi?", "I need a password for the new home network, any ideas?"],
      offer: ["How about {v}? Easy to type, hard to guess.", "Use {v} for the home network."],
      choice: ["You could use {v} or {alt}; which do you like?", "Two options for the wifi: {v} or {alt}."],
      accept: ["{v}, I set it on the router.", "Going with {v}."],
    },
    ask: ["What is the home wifi password?", "What's the password for our home network?"],
    paraphrase: ["A guest wants to get online at my house, what should they enter?", "What do visitors enter to connect their phones to the internet at my place?"],
  },
  {
    key: "dentist", base: factKind("dentist"), label: "my dentist appointment",
    entity: ["my dentist appointment", "the dental check-up", "my appointment at the dentist"],
    say: ["the dentist has me down for {v}", "I'm seeing the dentist {v}, finally booked"],
    other: ["{who}'s dentist appointment", "the dental check-up {who} booked"],
    update: ["the dental office moved me to {v}", "my dentist slot is {v} now instead of {old}"],
    request: {
      ask: ["can you book me in with the dentist? Any afternoon works", "please get me a dentist appointment next week"],
      offer: ["Done, the dentist has you for {v}.", "Booked: {v} at the dental practice."],
      choice: ["The dentist can do {v} or {alt}, which suits you?", "I see {v} and {alt} free at the dental practice."],
      accept: ["{v}, please.", "Let's take {v}."],
    },
    ask: ["When is my dentist appointment?", "What time is my dental check-up?"],
    paraphrase: ["When must I show up to get my teeth looked at?", "When is the molar inspection scheduled?"],
  },
  {
    key: "pet-name", base: factKind("pet-name"), label: "our new pet's name",
    entity: ["our {animal}'s name", "the name of the {animal} we adopted", "what we named the new {animal}"],
    say: ["we adopted a {animal} and named it {v}", "the {animal} is called {v}, settling in nicely"],
    other: ["{who}'s {animal}", "the {animal} {who} adopted"],
    request: {
      ask: ["we adopted a {animal}, help me name it?", "what should we call our new {animal}?"],
      offer: ["What about {v}? It suits a {animal}.", "I'd name the {animal} {v}."],
      choice: ["{v} or {alt} would both suit a {animal}.", "For the {animal}: {v}, or maybe {alt}?"],
      accept: ["We're going with {v}!", "{v} it is, the kids love it."],
    },
    ask: ["What did we name the {animal} we adopted?", "What is our {animal}'s name?"],
    paraphrase: ["How do we address the newest furry member of our household?", "Remind me what the family's latest companion answers to?"],
  },
  {
    key: "allergy", base: factKind("allergy"), label: "my allergy",
    entity: ["my food allergy", "what I'm allergic to", "the allergy the test found"],
    say: ["turns out I'm allergic to {v}, keep it out of recipes", "the allergist confirmed it: {v}"],
    other: ["{who}'s food allergy", "what {who} is allergic to"],
    ask: ["What am I allergic to?", "What food allergy did the test find?"],
    paraphrase: ["Which ingredient must stay out of any dish you suggest for me?", "What makes me break out in hives?"],
  },
  {
    key: "employer", base: factKind("employer"), label: "my new job",
    entity: ["my new employer", "the company I'm joining", "the firm that hired me"],
    say: ["I accepted the offer from {v}, starting next month", "I'm joining {v} as a {role}"],
    other: ["{who}'s new employer", "the company {who} is joining"],
    update: ["I handed in my notice and moved to {v}", "I work at {v} now, {old} is behind me"],
    ask: ["Which company hired me?", "Where did I accept the offer as a {role}?"],
    paraphrase: ["Who signs my paycheck these days?", "Which organisation pays my salary at the moment?"],
  },
  {
    key: "doctor", base: factKind("doctor"), label: "my GP", spoken: "Dr. {v}",
    entity: ["my new GP", "my family doctor", "the doctor I registered with"],
    say: ["I registered with Dr. {v} at the corner clinic", "Dr. {v} is my GP from now on"],
    other: ["{who}'s GP", "the doctor {who} sees"],
    request: {
      ask: ["can you find me a GP near the flat?", "I need to register with a family doctor, who's taking patients?"],
      offer: ["Dr. {v} at the corner clinic is taking new patients.", "Register with Dr. {v}, the clinic has space."],
      choice: ["Dr. {v} and Dr. {alt} both have openings, which one?", "Either Dr. {v} or Dr. {alt} could take you."],
      accept: ["Dr. {v} sounds good, sign me up.", "Let's go with Dr. {v}."],
    },
    ask: ["Who is my family doctor?", "Which GP did I register with?"],
    paraphrase: ["Which physician do I see when I feel unwell?", "Who should I book with next time I feel ill?"],
  },
  {
    key: "parking", base: factKind("parking"), label: "my parking space at work",
    entity: ["my parking spot at work", "my assigned space in the office garage", "the parking space facilities gave me"],
    say: ["facilities put me on {v} in the office garage", "I park at {v} at work, it's assigned"],
    other: ["{who}'s parking spot", "the space {who} got in the garage"],
    update: ["facilities moved my parking to {v}", "I'm on {v} in the garage now, not {old}"],
    ask: ["Where is my parking spot at work?", "What is my assigned space in the office garage?"],
    paraphrase: ["Where should I leave the car when I arrive at my job?", "Which bay is mine when I drive to the company?"],
  },
  {
    key: "book-club", base: factKind("book-club"), label: "the book club book",
    entity: ["the book club pick", "this month's book club book", "what my book club is reading"],
    say: ["book club went with {v} this month", "I need a copy of {v} for book club"],
    other: ["{who}'s book club pick", "the book {who}'s reading group chose"],
    update: ["book club switched to {v}", "we dropped {old} at book club, it's {v} now"],
    request: {
      ask: ["can you pick something for my book club to read?", "my book club needs a suggestion, what should we read?"],
      offer: ["{v} would be a great book club choice.", "Try {v}, it sparks good discussion."],
      choice: ["Either {v} or {alt}, both work for a club.", "I'd suggest {v}, or {alt} if people want something lighter."],
      accept: ["The club voted for {v}.", "{v} won the vote."],
    },
    ask: ["What is my book club reading?", "Which book did the book club pick?"],
    paraphrase: ["Which novel is my literary circle working through?", "What title must I finish by our next literary get-together?"],
  },
  {
    key: "bike-lock", base: factKind("bike-lock"), label: "my bike lock combination",
    entity: ["my bike lock combination", "the code on my bike lock", "the combination for the new bike lock"],
    say: ["I set the bike lock to {v}", "{v} unlocks my bike, don't forget"],
    other: ["{who}'s bike lock code", "the combination {who} uses on their bike"],
    ask: ["What is the combination of my bike lock?", "What code opens my bike lock?"],
    paraphrase: ["Which numbers free my bicycle from the rack outside the office?", "How do I unchain the two-wheeler I ride to the office?"],
  },
  {
    key: "grocery-budget", base: factKind("grocery-budget"), label: "our grocery budget",
    entity: ["our monthly grocery budget", "the grocery cap each month", "what we allow for groceries per month"],
    say: ["groceries are capped at {v} a month from now on", "we agreed on {v} a month for groceries"],
    other: ["{who}'s grocery budget", "what {who} spends on groceries"],
    update: ["we raised the grocery budget to {v} a month", "the grocery cap went from {old} to {v}"],
    ask: ["What is our monthly grocery budget?", "How much is the grocery cap each month?"],
    paraphrase: ["How much can we spend on food shopping in a typical four-week stretch?", "How high is the ceiling for supermarket spending over four weeks?"],
  },
];
