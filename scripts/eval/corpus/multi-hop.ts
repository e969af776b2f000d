// Multi-hop facts of the dialogue style (generate-dialogues.ts): a question
// that needs two statements made in different sessions. The `link` names the
// question's subject and a bridge `{b}` (a hotel, a person, an airline); the
// `fact` names the bridge and the answer `{v}`, but not the subject. Neither
// message answers the question alone. Distractors pair another bridge with
// another value ("my colleague stayed at Villa Serrano in Porto").
import type { Rng } from "../../../testing/random";
import type { Slots } from "./facts";
import * as P from "./pools";

export interface MultiHopChain {
  key: string;
  draw(rng: Rng): Slots;
  /** The subject and the bridge `{b}` (user messages). */
  link: readonly string[];
  /** The bridge and the value `{v}` (user messages). */
  fact: readonly string[];
  /** The same, as a user question the assistant's answer settles (the answer holds `{b}` and `{v}`). */
  factAsked?: { ask: readonly string[]; answer: readonly string[] };
  /** Questions naming the subject only. */
  ask: readonly string[];
  /** Another bridge with another value, `{who}` someone else. */
  distract: readonly string[];
}

const code = (rng: Rng): string => {
  const chars = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  let s = "";
  while (s.length < 6) s += chars[rng.int(0, chars.length - 1)];
  return s;
};

export const multiHopChains: readonly MultiHopChain[] = [
  {
    key: "wedding-hotel-city",
    draw: (rng) => ({ b: rng.pick(P.hotels), v: rng.pick(P.cities) }),
    link: ["I reserved a room at {b} for my sister's wedding", "for my sister's wedding we're staying at {b}"],
    fact: ["{b} is in {v}, right by the old harbour", "turns out {b} is in {v}, not where I thought"],
    factAsked: {
      ask: ["where is {b} again?", "remind me which city {b} is in?"],
      answer: ["{b} is in {v}, about ten minutes from the station.", "That's in {v}; {b} is near the cathedral."],
    },
    ask: ["What city is the hotel I booked for my sister's wedding in?", "In which city will I be staying for my sister's wedding?"],
    distract: ["{who} stayed at {b} in {v} last year", "{who} recommended {b}, it's in {v}"],
  },
  {
    key: "manager-pet",
    draw: (rng) => ({ b: rng.pick(P.firstNames), v: rng.pick(P.petNames), animal: rng.pick(P.animals) }),
    link: ["my new manager is {b}, she seems nice", "I report to {b} now, since the reorg"],
    fact: ["{b} brought her {animal} {v} to the office today", "{b} has a {animal}, {v}, very cute"],
    ask: ["What's the name of my manager's pet?", "What is my boss's pet called?"],
    distract: ["{b} from the gym has a {animal} named {v}", "{who}'s friend {b} walks a {animal} called {v}"],
  },
  {
    key: "conference-flight-code",
    draw: (rng) => ({ b: rng.pick(P.airlines), v: code(rng), city: rng.pick(P.cities) }),
    link: ["I'm flying {b} to the conference in {city}", "booked {b} for the {city} conference trip"],
    fact: ["{b} sent the reservation number, {v}", "{b} emailed me: reservation {v}"],
    ask: ["What's the booking reference for my flight to the conference?", "What confirmation code do I need for the conference flight?"],
    distract: ["{who}'s {b} reservation number is {v}", "{who} forwarded me their {b} reservation, {v}"],
  },
  {
    key: "yoga-venue-street",
    draw: (rng) => ({ b: rng.pick(P.venues), v: rng.pick(P.streets) }),
    link: ["my yoga class moved to {b}", "yoga is at {b} from next week"],
    fact: ["{b} is on {v}, above the bakery", "found {b} at last, it's on {v}"],
    factAsked: {
      ask: ["what's the address of {b}?", "where exactly is {b}?"],
      answer: ["{b} is on {v}, near the tram stop.", "You'll find {b} on {v}, second floor."],
    },
    ask: ["What street is my yoga class on now?", "Where do I go for yoga these days, which street?"],
    distract: ["{who}'s pottery class is at {b} on {v}", "there's a choir at {b} on {v}"],
  },
  {
    key: "nephew-gift-shop",
    draw: (rng) => ({ b: rng.pick(P.gifts), v: rng.pick(P.shops) }),
    link: ["my nephew's birthday present is going to be a {b}", "I decided on a {b} for my nephew's birthday"],
    fact: ["I ordered the {b} from {v}", "the {b} is coming from {v}, ordered it today"],
    ask: ["Which shop did I order my nephew's birthday present from?", "Where did I buy the present for my nephew?"],
    distract: ["{who} got a {b} from {v}", "{v} had a {b} on sale"],
  },
  {
    key: "birthday-restaurant-dish",
    draw: (rng) => ({ b: rng.pick(P.restaurants), v: rng.pick(P.dishes) }),
    link: ["for Mum's birthday dinner we booked {b}", "we're taking Mum to {b} for her birthday"],
    fact: ["{b} is famous for its {v}", "everyone says to order the {v} at {b}"],
    factAsked: {
      ask: ["what's good at {b}?", "any tips for eating at {b}?"],
      answer: ["At {b}, get the {v}; it's what they're famous for.", "{b} does a wonderful {v}, start there."],
    },
    ask: ["What dish is the restaurant for Mum's birthday dinner known for?", "What should we eat at Mum's birthday dinner place?"],
    distract: ["{who} loved the {v} at {b}", "{b} has a {v} special this week"],
  },
  {
    key: "landlord-phone",
    draw: (rng) => ({ b: `${rng.pick(P.firstNames)} ${rng.pick(P.surnames)}`, v: `07${rng.int(100, 999)} ${rng.int(100000, 999999)}` }),
    link: ["our new landlord is {b}, she manages the whole block", "the flat's owner is {b}, we signed today"],
    fact: ["you can reach {b} on {v}", "{b} gave me her mobile, {v}"],
    ask: ["What is my landlord's phone number?", "How do I call the person who owns our flat?"],
    distract: ["{who} says {b} is on {v}", "{b} from the choir uses {v}"],
  },
];
