// Word pools the conversation generator draws slot values from. Kept large and
// varied so that two generated conversations share little beyond function
// words, and so that a fact's value is rare enough to be checked in its
// evidence message (test/node/eval-generator.test.ts).

export const firstNames = [
  "Ayla", "Bruno", "Chiara", "Dmitri", "Efua", "Farid", "Greta", "Hiroshi", "Ines", "Jonah",
  "Kalani", "Leontine", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosalind", "Sanjay", "Tamsin",
  "Ulrich", "Valentina", "Wendell", "Ximena", "Yusuf", "Zofia", "Anouk", "Bartek", "Cosima", "Desmond",
  "Elodie", "Florin", "Giselle", "Horatio", "Ilse", "Jasper", "Kenji", "Lucinda", "Marisol", "Niamh",
  "Odalys", "Pascal", "Rafferty", "Saoirse", "Thaddeus", "Umberto", "Vesna", "Wilhelmina", "Yara", "Zeno",
] as const;

export const surnames = [
  "Okonkwo", "Lindqvist", "Marchetti", "Haddad", "Castellanos", "Nakamura", "Fairweather", "Brankovic",
  "Delacroix", "Oyelaran", "Thorsen", "Vasquez", "Kowalczyk", "Abernathy", "Rahimi", "Sorensen",
  "Quintero", "Pemberton", "Achterberg", "Moreau", "Iwasaki", "Galloway", "Petrovic", "Ferreira",
] as const;

export const cities = [
  "Lisbon", "Reykjavik", "Osaka", "Valparaiso", "Tbilisi", "Marrakesh", "Ljubljana", "Hobart",
  "Quebec City", "Cartagena", "Tallinn", "Kyoto", "Porto", "Halifax", "Seville", "Krakow",
  "Dubrovnik", "Bergen", "Oaxaca", "Hanoi", "Edinburgh", "Trieste", "Wellington", "Zanzibar",
] as const;

export const companies = [
  "Northwind Logistics", "Bluefin Analytics", "Calder & Sons", "Helio Robotics", "Marlowe Health",
  "Tidewater Bank", "Quarry Labs", "Juniper Freight", "Solstice Media", "Orchard Systems",
  "Brightline Energy", "Kestrel Insurance", "Lumen Pharmaceuticals", "Pinecrest Schools",
] as const;

export const jobTitles = [
  "data engineer", "product designer", "site reliability lead", "procurement analyst", "physiotherapist",
  "sous chef", "project manager", "quality auditor", "UX researcher", "solutions architect",
] as const;

export const colors = [
  "teal", "burgundy", "mustard yellow", "forest green", "lavender", "charcoal", "coral", "navy blue",
  "terracotta", "olive", "plum", "sky blue",
] as const;

export const allergens = [
  "cashews", "shellfish", "sesame", "kiwi", "buckwheat", "celery", "mustard seed", "lupin",
  "hazelnuts", "mango",
] as const;

export const animals = ["kitten", "puppy", "rabbit", "parrot", "tortoise", "ferret", "hamster", "greyhound"] as const;

export const petNames = [
  "Biscuit", "Pickle", "Waffles", "Juniper", "Moxie", "Noodle", "Pepperoni", "Clementine", "Ziggy",
  "Marmalade", "Bramble", "Tofu", "Gizmo", "Saffron", "Pretzel", "Dumpling",
] as const;

export const cars = ["Subaru Outback", "Volvo V60", "Honda Civic", "Skoda Octavia", "Mazda CX-5", "Toyota Prius", "Ford Ranger", "Kia Niro"] as const;

export const months = [
  "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December",
] as const;

export const weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

export const coffeeStyles = [
  "black with one sugar", "as a flat white with oat milk", "as a double espresso", "with a splash of cold milk",
  "as a cortado", "iced with vanilla syrup", "as a long black", "with hazelnut creamer",
] as const;

export const bookTitles = [
  "The Remains of the Day", "Piranesi", "The Overstory", "A Gentleman in Moscow", "Station Eleven",
  "The Left Hand of Darkness", "Pachinko", "Middlemarch", "The Name of the Rose", "Klara and the Sun",
] as const;

export const instruments = ["cello", "banjo", "saxophone", "ukulele", "clarinet", "harp", "trombone", "mandolin"] as const;

export const sports = ["bouldering", "rowing", "fencing", "ultimate frisbee", "table tennis", "open-water swimming", "squash", "cyclocross"] as const;

export const wifiWords = ["marigold", "tangerine", "pelican", "zeppelin", "quokka", "nebula", "walrus", "cobalt", "sundial", "kayak"] as const;

export const streetNames = ["Alder", "Birchwood", "Cobble", "Dunmore", "Elmhurst", "Foxglove", "Greystone", "Hawthorn", "Ivywood", "Juniper"] as const;

export const dishes = [
  "mushroom risotto", "lamb tagine", "shakshuka", "pad see ew", "chicken katsu", "ratatouille",
  "black bean chili", "spanakopita", "pho", "paella", "dal makhani", "gnocchi with brown butter",
] as const;

// Pools of the dialogue style's multi-hop chains (corpus/multi-hop.ts).
export const hotels = [
  "the Miramar", "Grand Aurelia", "Casa Lumbre", "the Kittiwake Inn", "the Brisa", "the Old Customs House",
  "Villa Serrano", "the Larkspur Lodge", "the Verbena", "the Anchorage",
] as const;

export const venues = [
  "Riverside Community Hall", "the Quillon Studio", "Hollyhock Centre", "the Ferrous Works loft", "St Brennan's annex",
  "the Meridian Rooms", "Juniper House", "the Tannery Arts Space",
] as const;

export const airlines = ["Aer Corvus", "Nordlys Air", "Sunvale Airways", "Atlantica", "Pelagic Air", "Condorline"] as const;

export const shops = [
  "Pennywhistle Toys", "the Hobbyhorse Emporium", "Brambling & Co", "Marbleworks", "the Curious Cog", "Tinder & Twine",
  "Hatch Street Games", "Owl & Anchor",
] as const;

export const gifts = ["telescope", "chemistry set", "drone", "skateboard", "microscope", "drum kit", "kite", "robot kit"] as const;

/** Street names without "Street" or "Road", so a question saying "street" does not match the answer by that word. */
export const streets = [
  "Calloway Mews", "Marsh Lane", "Wexford Avenue", "Orrin Terrace", "Penhallow Crescent", "Quayside Walk",
  "Bellmont Row", "Tarrant Close",
] as const;

export const restaurants = [
  "Osteria Lucca", "the Saltbox", "Mesa Verde", "Kin Kitchen", "the Copper Pot", "Bistro Aurelien", "Sora Izakaya",
  "the Larder", "Casa Pepa",
] as const;
