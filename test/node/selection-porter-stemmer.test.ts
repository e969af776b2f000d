import { describe, expect, it } from "vitest";
import { porterStem } from "../../durable-objects/selection/porter-stemmer";

describe("porterStem", () => {
  it("reproduces the examples of Porter (1980) for each step", () => {
    const examples: Record<string, string> = {
      caresses: "caress", ponies: "poni", ties: "ti", caress: "caress", cats: "cat",
      feed: "feed", agreed: "agre", plastered: "plaster", bled: "bled", motoring: "motor", sing: "sing",
      conflated: "conflat", troubled: "troubl", sized: "size", hopping: "hop", tanned: "tan", falling: "fall",
      hissing: "hiss", fizzed: "fizz", failing: "fail", filing: "file", happy: "happi", sky: "sky",
      relational: "relat", conditional: "condit", rational: "ration", digitizer: "digit", oscillator: "oscil",
      triplicate: "triplic", formative: "form", formalize: "formal", electrical: "electr", hopeful: "hope",
      goodness: "good", revival: "reviv", allowance: "allow", inference: "infer", airliner: "airlin",
      adjustable: "adjust", defensible: "defens", irritant: "irrit", replacement: "replac", dependent: "depend",
      adoption: "adopt", communism: "commun", activate: "activ", effective: "effect", bowdlerize: "bowdler",
      probate: "probat", rate: "rate", cease: "ceas", controll: "control", roll: "roll", generalization: "gener",
    };
    for (const [word, stem] of Object.entries(examples)) expect(porterStem(word), word).toBe(stem);
  });

  it("conflates inflections a question and its answer use differently", () => {
    expect(new Set(["paint", "painted", "painting", "paints"].map(porterStem))).toEqual(new Set(["paint"]));
    expect(porterStem("adopting")).toBe(porterStem("adoption"));
  });

  it("leaves digits, short words, other scripts and mixed tokens unchanged", () => {
    for (const t of ["2547", "is", "me", "café", "größe", "東", "x86", "b2b", "naïve"]) expect(porterStem(t)).toBe(t);
  });
});
