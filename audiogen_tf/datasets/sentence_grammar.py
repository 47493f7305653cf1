"""Generated English sentences: training text for the speech corpus with wide word and phone coverage.

The packaged ``sentences.txt`` holds a few hundred sentences, too few for a text-to-speech model to learn
to read text it has not seen. :func:`generate_sentences` adds as many as wanted (up to
:data:`MAX_SENTENCES`) from a hand-written template grammar: statements in the past, present and future,
yes/no and wh- questions, commands and requests, two-clause sentences (because, when, but, after, if...)
and sentences with clock times, prices, years, ordinals, percents and decimals written in digits, so that
the text normalizer's paths (:func:`audiogen_tf.datasets.speech.normalize_text`) get training data too.
The vocabulary (names, jobs, animals, foods, objects, places, adjectives, colours, verbs with their
irregular forms, adverbs, times and dates) is plain Python data in this module, written for it.

Output is deterministic for ``(count, seed)`` on any Python version (only :class:`random.Random` is used)
and prefix-stable: the first ``k`` sentences of ``generate_sentences(n)`` are ``generate_sentences(k)``,
so a corpus can grow without changing the ids of the sentences it already has.

Example:
    >>> from audiogen_tf.datasets.sentence_grammar import generate_sentences
    >>> len(generate_sentences(3)), generate_sentences(2) == generate_sentences(3)[:2]
    (3, True)

A corpus of the packaged sentences followed by generated ones (``audiogen data speech DIR
--generated-sentences N`` does the same)::

    from audiogen_tf.datasets.speech import build_speech_corpus, default_sentences
    build_speech_corpus("data/speech", sentences=default_sentences() + generate_sentences(5000))
"""

from __future__ import annotations

import random

from audiogen_tf.errors import ConfigError

MAX_SENTENCES = 100_000
"""The most sentences :func:`generate_sentences` makes for one seed."""

MIN_WORDS, MAX_WORDS = 5, 16
"""Bounds on the number of (space-separated) words of a generated sentence."""


def _w(text: str) -> tuple:
    """Whitespace-separated entries, duplicates dropped, order kept."""
    return tuple(dict.fromkeys(text.split()))


def _c(text: str) -> tuple:
    """Comma-separated entries (which may hold spaces), duplicates dropped, order kept."""
    return tuple(dict.fromkeys(" ".join(part.split()) for part in text.split(",") if part.strip()))


# ---------------------------------------------------------------------------------------------
# vocabulary: people

FIRST_NAMES = _w("""
    Aaron Abigail Adam Adrian Agnes Alan Albert Alice Amanda Amelia Amir Amy Andrea Andrew Angela Anita Anna
    Anthony Arthur Audrey Barbara Beatrice Ben Benjamin Bernard Beth Betty Bill Bruce Caleb Camila Carl Carla
    Carmen Carol Caroline Cecilia Charles Charlotte Chloe Chris Clara Claire Colin Connor Daisy Daniel David
    Deborah Dennis Diana Diego Dorothy Douglas Dylan Edgar Edith Edward Eleanor Elena Eli Elijah Ella Ellen
    Emily Emma Eric Erica Ethan Eva Evelyn Felix Fiona Frank Gabriel George Gerald Gloria Grace Grant Hannah
    Harold Harry Hazel Helen Henry Hugo Ian Irene Isaac Isabel Ivan Jack Jacob James Jane Janet Jasmine Jason
    Jenny Jeremy Jessica Joan Joel John Jonah Joseph Joyce Judith Julia Julian Karen Kate Keith Kevin Laura
    Leo Leon Lily Linda Lisa Lucas Lucy Luis Luke Lydia Maggie Marcus Margaret Maria Mark Martha Martin Mary
    Matthew Maya Megan Mia Michael Miguel Molly Monica Nadia Naomi Nathan Neil Nina Noah Nora Oliver Olivia
    Oscar Owen Pablo Pamela Patrick Paul Peter Philip Priya Rachel Ralph Raymond Rebecca Rita Robert Rosa Ruby
    Ruth Ryan Samuel Sandra Sara Scott Sean Simon Sofia Sophie Stella Stephen Susan Teresa Thomas Tina Tom
    Tony Victor Victoria Vincent Walter Wendy William Yusuf Zoe
""")

SURNAMES = _w("""
    Adams Allen Baker Banks Bell Bennett Brooks Brown Campbell Carter Chen Clark Cole Cooper Cruz Davis Diaz
    Edwards Evans Fisher Flores Ford Foster Garcia Gordon Gray Green Hall Harris Hayes Hill Hughes Jackson
    James Jensen Johnson Jones Kelly Kennedy Khan Kim Lee Lewis Lopez Martin Mason Miller Mitchell Moore
    Morgan Murphy Nelson Nguyen Olsen Owens Palmer Park Parker Patel Perez Porter Price Reed Reyes Rivera
    Roberts Robinson Ross Russell Sanders Santos Scott Shaw Singh Smith Stewart Sullivan Taylor Thompson
    Torres Turner Walker Ward Watson Webb Wells White Wilson Wood Wright Young
""")

TITLES = _w("Mr. Mrs. Ms. Dr.")

JOBS = _c("""
    teacher, doctor, nurse, farmer, baker, butcher, carpenter, plumber, electrician, painter, sailor, pilot,
    driver, mechanic, dentist, lawyer, judge, librarian, gardener, cook, chef, waiter, cashier, clerk, banker,
    builder, engineer, scientist, chemist, pharmacist, surgeon, firefighter, soldier, captain, guard, janitor,
    tailor, barber, hairdresser, fisherman, hunter, miner, potter, weaver, jeweler, locksmith, blacksmith,
    architect, designer, photographer, journalist, reporter, editor, writer, author, poet, novelist, artist,
    sculptor, musician, singer, drummer, pianist, violinist, guitarist, dancer, actor, director, producer,
    manager, secretary, accountant, economist, historian, professor, student, tutor, coach, athlete, referee,
    swimmer, runner, cyclist, climber, explorer, astronaut, astronomer, geologist, biologist, botanist,
    midwife, paramedic, therapist, counselor, mayor, governor, senator, ambassador, detective, police officer,
    sheriff, ranger, shepherd, beekeeper, florist, grocer, merchant, shopkeeper, salesman, landlord, tourist,
    guide, interpreter, translator, programmer, technician, inventor, surveyor, postman, courier, porter,
    butler, nanny, babysitter, lifeguard, zookeeper, caretaker, conductor, announcer, comedian, magician,
    juggler, acrobat, bus driver, taxi driver, truck driver, flight attendant, bank teller, mail carrier,
    veterinarian, principal, dean, nun, monk, priest, organist, composer, choreographer, jockey, umpire,
    goalkeeper, skater, diver, volunteer, apprentice, intern, cleaner, decorator, upholsterer, cobbler,
    glassblower, watchmaker, bookseller, printer, publisher, cartoonist, animator, illustrator, chauffeur
""")

RELATIVES = _c("""
    mother, father, sister, brother, aunt, uncle, cousin, grandmother, grandfather, niece, nephew, son,
    daughter, wife, husband, friend, neighbor, roommate, classmate, partner, boss, colleague, teammate,
    grandson, granddaughter, godmother, godfather, stepmother, stepfather, best friend, pen pal, landlady,
    older brother, younger sister, baby brother, little sister, twin brother
""")

PLURAL_RELATIVES = _c("parents, grandparents, twins, children, kids, cousins, neighbors, friends, classmates")

PERSON_ADJECTIVES = _w("""
    tall short young old quiet shy kind friendly clever brave calm cheerful curious gentle honest lazy lucky
    nervous polite proud serious sleepy strict tired busy patient careful careless famous generous grumpy
    happy hungry jolly lonely modest noisy elderly angry anxious eager funny thoughtful wise wealthy humble
    bored excited worried cranky bossy sensible stubborn talented thirsty timid weary witty cautious
    confident cheeky clumsy cunning dreamy energetic forgetful graceful helpful impatient jealous lively
    loyal moody mysterious nosy optimistic playful punctual restless sincere sleepless smiling sporty tidy
    trusting upset sunburned soaked puzzled amazed delighted grateful
""")

# ---------------------------------------------------------------------------------------------
# vocabulary: animals

ANIMALS = _c("""
    dog, cat, horse, cow, pig, sheep, goat, chicken, duck, goose, turkey, rabbit, hamster, mouse, rat,
    squirrel, fox, wolf, bear, deer, moose, lion, tiger, leopard, cheetah, panther, jaguar, zebra, giraffe,
    elephant, rhino, hippo, camel, llama, donkey, mule, pony, kangaroo, koala, panda, monkey, gorilla,
    chimpanzee, lemur, sloth, otter, beaver, badger, hedgehog, skunk, raccoon, mole, bat, owl, eagle, hawk,
    falcon, parrot, pigeon, sparrow, robin, crow, raven, swan, heron, stork, pelican, penguin, flamingo,
    peacock, ostrich, seagull, woodpecker, canary, frog, toad, turtle, tortoise, lizard, snake, crocodile,
    alligator, dolphin, whale, shark, seal, walrus, octopus, crab, lobster, jellyfish, starfish, salmon,
    trout, goldfish, butterfly, moth, bee, wasp, ant, beetle, ladybug, spider, snail, worm, caterpillar,
    grasshopper, cricket, dragonfly, firefly, mosquito, puppy, kitten, lamb, calf, foal, piglet, duckling,
    chick, buffalo, bison, hare, ferret, weasel, gecko, iguana, salamander, hummingbird, bluebird, magpie,
    vulture, buzzard, chipmunk, porcupine, armadillo, antelope, gazelle, ox, yak, reindeer, coyote, lynx,
    orangutan, baboon, mongoose, meerkat, seahorse, stingray, tadpole, guinea pig
""")

ANIMAL_ADJECTIVES = _w("""
    little tiny big huge young old sleepy hungry shy fluffy furry spotted striped wild tame clever noisy
    playful lazy curious frightened injured friendly gentle fierce nervous muddy wet skinny plump restless
    patient hairy scruffy sleek speckled lonely cheeky proud grumpy timid
""")

# ---------------------------------------------------------------------------------------------
# vocabulary: foods

FRUITS = _c("""
    apple, banana, orange, pear, peach, plum, cherry, grape, lemon, lime, mango, melon, pineapple, apricot,
    kiwi, coconut, strawberry, blueberry, raspberry, fig, nectarine, tangerine, grapefruit, papaya,
    pomegranate, watermelon, blackberry, cranberry, gooseberry
""")

VEGETABLES = _c("""
    tomato, potato, carrot, onion, cucumber, pepper, pumpkin, radish, turnip, beet, zucchini, eggplant,
    avocado, mushroom, olive, cabbage, sweet potato, parsnip, leek, artichoke, squash, chili pepper
""")

SNACKS = _c("""
    pie, cake, cookie, muffin, biscuit, bagel, croissant, pancake, waffle, doughnut, cupcake, pretzel,
    cracker, scone, bun, tart, brownie, sandwich, hamburger, hot dog, pizza, taco, burrito, dumpling,
    sausage, meatball, omelet, egg, pastry, lollipop, candy bar, granola bar, cheeseburger, meat pie
""")

MEALS = _c("""
    soup, rice, stew, pasta, spaghetti, porridge, oatmeal, cereal, curry, chili, risotto, lasagna, popcorn,
    yogurt, broth, salad, fruit salad, chowder, goulash, macaroni, couscous, fried rice, tomato soup,
    vegetable soup, chicken soup, mashed potato
""")

PIECE_FOODS = _c("""
    bread, cheese, cake, chocolate, toast, pie, pizza, fish, chicken, ham, turkey, beef, pork, bacon, salmon,
    tuna, tofu, melon, watermelon, pineapple, fudge, cornbread, garlic bread, banana bread, cheesecake,
    shortbread, gingerbread, apple pie, pumpkin pie, meatloaf
""")

INGREDIENTS = _c("""
    sugar, flour, salt, honey, jam, butter, cinnamon, mustard, ketchup, mayonnaise, vinegar, syrup, garlic,
    ginger, cream, sour cream, whipped cream, jelly, peanut butter, olive oil, maple syrup, gravy, salsa,
    hummus, nutmeg, oregano, basil, parsley, pepper, paprika, vanilla, marmalade, custard, pudding, spinach,
    broccoli, celery, lettuce, cauliflower, asparagus, corn, ice cream, coleslaw, cottage cheese
""")

DRINKS = _c("""
    milk, coffee, tea, juice, water, lemonade, cocoa, cider, orange juice, apple juice, iced tea, hot
    chocolate, herbal tea, green tea, mint tea, grape juice, tomato juice, chocolate milk, sparkling water,
    ginger ale, root beer, punch, buttermilk
""")

FOOD_ADJECTIVES = _w("""
    fresh warm cold hot sweet sour spicy salty bitter ripe crisp crunchy juicy tender soft tasty delicious
    homemade frozen creamy smoky sticky toasted roasted baked fried grilled boiled sliced chopped plain rich
    leftover organic cheap expensive local stale burnt lukewarm mild buttery fluffy chewy tangy fancy
""")

FOOD_CONTAINERS = {
    "meal": _c("bowl, plate, pot, dish, tray, pan, serving, container"),
    "drink": _c("cup, glass, bottle, mug, jug, pitcher, flask, carton, thermos"),
    "piece": _c("piece, slice, chunk, wedge, bite, sliver"),
    "ingredient": _c("jar, bag, spoonful, pinch, tub, packet, handful, box, tin, can, cupful"),
}

MEAL_TIMES = _w("breakfast lunch dinner supper brunch")

# ---------------------------------------------------------------------------------------------
# vocabulary: objects and vehicles

OBJECTS = _c("""
    book, notebook, pencil, pen, crayon, marker, eraser, ruler, stapler, envelope, letter, postcard, stamp,
    map, globe, calendar, clock, watch, lamp, candle, mirror, picture, painting, photograph, frame, vase,
    bowl, cup, mug, plate, spoon, fork, knife, pan, pot, kettle, teapot, jug, bottle, jar, box, basket,
    bucket, bag, backpack, suitcase, wallet, purse, umbrella, hat, cap, scarf, glove, sock, shoe, boot,
    coat, jacket, sweater, shirt, blouse, skirt, dress, belt, tie, ribbon, button, necklace, bracelet, ring,
    earring, brooch, key, lock, chain, rope, ladder, hammer, saw, drill, screwdriver, wrench, shovel, rake,
    hose, broom, mop, sponge, towel, blanket, pillow, cushion, quilt, mattress, curtain, rug, carpet,
    doormat, chair, table, desk, sofa, couch, bench, stool, shelf, cupboard, drawer, cabinet, wardrobe, bed,
    cradle, fridge, oven, stove, toaster, blender, microwave, heater, fan, radio, television, computer,
    laptop, keyboard, printer, tablet, phone, camera, speaker, battery, charger, cable, plug, light bulb,
    flashlight, lantern, telescope, microscope, compass, magnet, whistle, bell, drum, guitar, violin, piano,
    flute, trumpet, harp, banjo, cello, trombone, tuba, clarinet, saxophone, accordion, harmonica, kite,
    balloon, ball, puzzle, doll, teddy bear, toy, robot, yo-yo, bicycle, scooter, skateboard, sled, wagon,
    tent, canoe, kayak, paddle, oar, wheelbarrow, cart, helmet, badge, medal, trophy, ticket, receipt, coin,
    brush, comb, toothbrush, razor, folder, binder, clipboard, magazine, newspaper, dictionary, novel,
    diary, journal, cookbook, recipe, album, poster, sticker, card, gift, parcel, package, sandal, slipper,
    apron, uniform, costume, mask, wig, crown, needle, thimble, ladle, whisk, grater, colander, strainer,
    tray, napkin, tablecloth, flowerpot, watering can, birdcage, fishbowl, aquarium, chessboard, domino,
    dice, jigsaw puzzle, paintbrush, easel, canvas, sketchbook, typewriter, calculator, thermometer,
    barometer, hourglass, stopwatch, alarm clock, doorbell, mailbox, padlock, toolbox, tape measure,
    pocketknife, fishing rod, tennis racket, baseball bat, football, basketball, volleyball, golf club,
    hockey stick, surfboard, snowboard, jump rope, trampoline, hammock, deck chair, beach towel, sleeping
    bag, raincoat, overcoat, tuxedo, vest, hoodie, pajama top, bow tie, headband, hairbrush, hair clip,
    lipstick, perfume bottle, soap dish, shower curtain, bath mat, laundry basket, clothespin, ironing board,
    vacuum cleaner, dustpan, trash can, recycling bin, lunchbox, thermos, water bottle, picnic basket,
    shopping bag, shopping cart, price tag, gift card, bookmark, bookcase, bookshelf, coat hanger, key ring,
    name tag, lampshade, chandelier, candlestick, picture frame, photo album, scrapbook, treasure chest,
    jewelry box, music box, snow globe, pinwheel, kaleidoscope, rocking chair, armchair, footstool,
    highchair, bunk bed, cot, nightstand, dresser, coffee table, desk lamp, floor lamp, ceiling fan, garden
    hose, lawnmower, pitchfork, trowel, spade, axe, chisel, paint roller, paint can, stepladder,
    extension cord, fuse, switch, remote control, headset, microphone, projector, scanner, hard drive, mouse
    pad, sewing machine, spinning wheel, loom, anvil, horseshoe, saddle, bridle, harness, lasso, anchor,
    compass rose, lifejacket, buoy, fishing net, crab pot, birdhouse, kennel, dog bowl, leash, collar, scratching post
""")

HOUSE_PARTS = _c("""
    door, window, gate, fence, roof, chimney, staircase, balcony, porch, floor, ceiling, wall, front door,
    back door, garden gate, kitchen floor, bathroom sink, kitchen sink, bathtub, shower, fireplace,
    mailbox, doorstep, driveway, patio, deck, railing, shutter, skylight, windowsill, bookshelf, mantelpiece,
    garage door, attic window, cellar door, picket fence, stone wall, greenhouse door
""")

VEHICLES = _c("""
    car, truck, van, bus, taxi, tractor, jeep, minivan, ambulance, limousine, camper, motorcycle, scooter,
    bicycle, tandem, boat, ship, ferry, yacht, sailboat, rowboat, canoe, raft, tugboat, airplane, helicopter,
    glider, hot air balloon, tram, trolley, train, fire engine, police car, school bus, pickup truck,
    delivery van, garbage truck, cement mixer, snowplow, bulldozer, forklift, golf cart, race car, sports car,
    station wagon
""")

TRANSPORT = _w("bus train car taxi bike boat ferry plane subway tram coach")

# Adjectives before object nouns, in the English order: quality / size / age, then colour, then material.
OBJECT_ADJECTIVES = _w("""
    old new big small large tiny huge heavy broken clean dirty dusty shiny rusty plain fancy cheap expensive
    antique modern simple spare round square flat sharp soft hard smooth rough thin thick narrow wide long
    short tall empty full wet dry damp sticky favorite lucky strange useful ugly pretty lovely beautiful
    elegant battered cracked faded folded enormous shabby sturdy fragile delicate precious valuable ordinary
    unusual handmade borrowed missing striped spotted checkered tidy messy crooked bent brand-new worn
    secondhand colorful glittering dented scratched polished squeaky wobbly noisy quiet comfortable awkward
    bulky compact portable sleek spotless filthy stained torn patched famous mysterious ancient gigantic
    miniature little enormous
""")

COLORS = _w("""
    red orange yellow green blue purple pink brown black white gray silver golden beige navy teal turquoise
    maroon crimson scarlet violet lavender lilac olive tan ivory cream amber bronze copper indigo khaki
    magenta coral emerald charcoal
""")

MATERIALS = _w("""
    wooden metal plastic leather woolen cotton silk paper glass velvet rubber bamboo wicker ceramic
    porcelain copper brass iron steel tin clay stone marble canvas denim linen straw cardboard crystal
""")

# Comparative and superlative forms, in threes.
_COMPARISONS = """
    big bigger biggest small smaller smallest old older oldest new newer newest heavy heavier heaviest
    light lighter lightest cheap cheaper cheapest tall taller tallest short shorter shortest long longer
    longest wide wider widest narrow narrower narrowest thick thicker thickest thin thinner thinnest soft
    softer softest hard harder hardest clean cleaner cleanest dirty dirtier dirtiest shiny shinier shiniest
    sharp sharper sharpest warm warmer warmest cold colder coldest safe safer safest strong stronger
    strongest quiet quieter quietest loud louder loudest fast faster fastest slow slower slowest pretty
    prettier prettiest ugly uglier ugliest simple simpler simplest fancy fancier fanciest plain plainer
    plainest dark darker darkest bright brighter brightest smooth smoother smoothest rough rougher roughest
    young younger youngest busy busier busiest happy happier happiest kind kinder kindest brave braver
    bravest calm calmer calmest clever cleverer cleverest funny funnier funniest lazy lazier laziest
    wise wiser wisest rich richer richest poor poorer poorest sweet sweeter sweetest fresh fresher freshest
    tasty tastier tastiest spicy spicier spiciest salty saltier saltiest crisp crisper crispest ripe riper
    ripest juicy juicier juiciest deep deeper deepest shallow shallower shallowest high higher highest low
    lower lowest close closer closest far farther farthest early earlier earliest late later latest
    good better best bad worse worst noisy noisier noisiest sunny sunnier sunniest windy windier windiest
    cozy cozier coziest tiny tinier tiniest lucky luckier luckiest
"""
COMPARISONS = tuple(tuple(_COMPARISONS.split()[i:i + 3]) for i in range(0, len(_COMPARISONS.split()), 3))
LONG_ADJECTIVES = _w("""
    expensive beautiful useful valuable comfortable colorful modern elegant fragile delicate famous
    crowded peaceful interesting dangerous important popular difficult careful patient generous curious
    polite nervous cheerful modest reliable expensive powerful graceful delicious
""")

# ---------------------------------------------------------------------------------------------
# vocabulary: places and times

# "preposition:place": the preposition that says where something is at that place.
ROOMS = _c("""
    kitchen, bedroom, bathroom, living room, dining room, attic, basement, garage, cellar, hallway, laundry
    room, pantry, nursery, playroom, office, classroom, lobby, waiting room, corridor, study, guest room,
    staff room
""")

PLACES = tuple(f"in:{room}" for room in ROOMS) + _c("""
    at:library, at:station, at:market, at:bakery, at:museum, at:school, at:hospital, at:bank, at:post office,
    at:pharmacy, at:cinema, at:theater, at:stadium, at:gym, at:swimming pool, at:zoo, at:aquarium,
    at:airport, at:harbor, at:factory, at:warehouse, at:workshop, at:studio, at:laboratory, at:cafe,
    at:restaurant, at:hotel, at:castle, at:palace, at:lighthouse, at:cottage, at:cabin, at:church,
    at:chapel, at:cathedral, at:temple, at:barn, at:stable, at:greenhouse, at:supermarket, at:bookstore,
    at:grocery store, at:hardware store, at:flower shop, at:bus stop, at:train station, at:fire station,
    at:police station, at:city hall, at:town hall, at:courthouse, at:art gallery, at:concert hall,
    at:clinic, at:mall, at:diner, at:bowling alley, at:ice rink, at:campsite, at:gas station, at:car wash,
    at:laundromat, at:college, at:kindergarten, at:embassy, at:fairground, at:playground, at:marina,
    at:farm, at:community center, at:youth club, at:boathouse, at:toy shop, at:pet shop, at:bike shop,
    at:shoe store, at:barbershop, at:bus station, at:ferry terminal, at:petrol station, at:mill,
    at:observatory, at:planetarium, at:record store, at:antique shop, at:ski resort, at:gallery,
    in:park, in:garden, in:forest, in:jungle, in:desert, in:meadow, in:field, in:orchard, in:vineyard,
    in:valley, in:town square, in:courtyard, in:cave, in:swamp, in:canyon, in:village,
    in:parking lot, in:backyard, in:front yard, in:alley, in:tunnel, in:market square, in:rose garden,
    on:beach, on:island, on:hill, on:mountain, on:bridge, on:pier, on:shore, on:cliff, on:glacier,
    on:riverbank, on:rooftop, on:terrace, on:boardwalk, on:platform, on:balcony, on:porch, on:patio,
    on:hiking trail, on:tennis court, on:football field, on:ferry, on:ship,
    by:lake, by:river, by:pond, by:stream, by:waterfall, by:canal, by:fountain, by:harbor wall, by:old mill,
    by:lighthouse, by:well, by:reservoir, by:creek, by:bay, by:lagoon, by:seashore
""")

CITIES = _c("""
    Paris, London, Rome, Berlin, Madrid, Lisbon, Vienna, Prague, Dublin, Athens, Cairo, Tokyo, Seoul,
    Beijing, Delhi, Mumbai, Sydney, Melbourne, Toronto, Chicago, Boston, Denver, Seattle, Miami, Dallas,
    Houston, Atlanta, Phoenix, Portland, Montreal, Vancouver, Lima, Santiago, Havana, Nairobi, Lagos, Oslo,
    Stockholm, Helsinki, Copenhagen, Amsterdam, Brussels, Geneva, Zurich, Venice, Florence, Naples, Milan,
    Barcelona, Seville, Edinburgh, Glasgow, Cardiff, Belfast, Bristol, Leeds, Manchester, Liverpool, Kyoto,
    Osaka, Bangkok, Hanoi, Manila, Jakarta, Singapore, Istanbul, Moscow, Warsaw, Budapest, Munich, Hamburg,
    Marseille, Lyon, Quebec, Ottawa, Calgary, Detroit, Memphis, Nashville, Orlando, Baltimore, Philadelphia,
    Pittsburgh, Cleveland, Minneapolis, San Diego, San Francisco, Los Angeles, New York, New Orleans,
    Honolulu, Anchorage, Auckland, Wellington, Perth, Brisbane, Cape Town, Casablanca, Tunis, Accra,
    France, Spain, Italy, Germany, Japan, China, India, Brazil, Canada, Mexico, Egypt, Kenya, Peru, Chile,
    Norway, Sweden, Finland, Denmark, Ireland, Scotland, Wales, Portugal, Greece, Poland, Austria,
    Switzerland, Belgium, Iceland, Morocco, Australia, Argentina, Nigeria, Ghana, Vietnam, Thailand, Korea,
    Nepal, Russia, Colombia, Cuba, Jamaica, Ethiopia, Tanzania, Turkey, Hungary, Croatia, Scotland
""")

PLACE_ADJECTIVES = _w("""
    old new busy quiet crowded empty small big local famous ancient modern tiny huge dark bright sunny
    noisy peaceful cozy chilly damp dusty lovely pretty little shabby elegant grand gloomy cheerful
    lonely windy freezing tidy messy
""")

WEEKDAYS = _w("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
MONTHS = _w("January February March April May June July August September October November December")
SEASONS = _w("spring summer autumn winter")
DAY_PARTS = _w("morning afternoon evening night")
EVENTS = _c("""
    concert, party, wedding, meeting, picnic, festival, parade, game, match, race, contest, exam, interview,
    lecture, rehearsal, ceremony, fair, show, play, recital, tournament, auction, barbecue, lesson, class,
    trip, flight, dance, quiz, spelling bee, science fair, bake sale, book club, choir practice, football
    match, chess tournament, talent show, birthday party, garden party, school play, art show, boat race,
    cooking class, piano lesson, swimming lesson, job interview, family dinner, town meeting, street fair
""")
WEATHER = _w("""
    sunny rainy cloudy windy foggy snowy stormy cold warm hot chilly freezing mild humid dry wet icy misty
    breezy gloomy bright clear frosty damp gray pleasant
""")

# ---------------------------------------------------------------------------------------------
# vocabulary: adverbs

MANNER_ADVERBS = _w("""
    quickly slowly quietly loudly carefully gently happily sadly angrily calmly patiently nervously proudly
    politely rudely softly suddenly eagerly bravely cheerfully clumsily easily gracefully honestly kindly
    lazily neatly openly rapidly safely secretly silently smoothly sleepily sternly swiftly tenderly
    thoughtfully warmly wearily wildly briskly gladly busily anxiously boldly curiously firmly freely
    fiercely hungrily joyfully merrily noisily playfully promptly restlessly shyly steadily cautiously
    casually cleverly fondly gratefully hastily loyally calmly cheerfully awkwardly bitterly brightly
    carelessly deliberately eventually faithfully foolishly gloomily greedily hopefully innocently
    jealously keenly lightly lovingly madly mysteriously obediently perfectly quietly rarely readily
    reluctantly sharply shortly sincerely smoothly solemnly speedily stubbornly sweetly tightly truthfully
    vaguely victoriously vividly wisely wrongly
""")

FREQUENCY_ADVERBS = _w("always usually often sometimes rarely seldom never occasionally frequently regularly")

# ---------------------------------------------------------------------------------------------
# verbs: "base" (regular), "base+" (regular, doubles its last consonant), "base:past:participle"
# (irregular), with an optional particle after a space ("pick up").

B, S, P, PP, ING = range(5)


def _third(base: str) -> str:
    if base == "have":
        return "has"
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        return base + "es"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "i", "o", "u"):
        return base[:-1] + "ies"
    return base + "s"


def _ing(base: str, double: bool) -> str:
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith(("ee", "ye", "oe")):
        return base + "ing"
    if base.endswith("e"):
        return base[:-1] + "ing"
    return base + base[-1] + "ing" if double else base + "ing"


def _regular_past(base: str, double: bool) -> str:
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in ("a", "e", "i", "o", "u"):
        return base[:-1] + "ied"
    return base + base[-1] + "ed" if double else base + "ed"


def _verb(spec: str) -> tuple:
    """The five forms (base, third person, past, participle, -ing) of a verb spec."""
    head, _, particle = spec.partition(" ")
    parts = head.split(":")
    double = parts[0].endswith("+")
    base = parts[0].rstrip("+")
    past = parts[1] if len(parts) > 1 else _regular_past(base, double)
    participle = parts[2] if len(parts) > 2 else past
    tail = " " + particle if particle else ""
    return tuple(f + tail for f in (base, _third(base), past, participle, _ing(base, double)))


def _verbs(text: str) -> tuple:
    return tuple(_verb(spec) for spec in _c(text))


# things handled by people: "found the old key"
THING_VERBS = _verbs("""
    find:found:found, lose:lost:lost, fix, repair, clean, wash, move, carry, paint, borrow, drop+,
    hold:held:held, keep:kept:kept, need, want, check, wrap+, pack, hide:hid:hidden, polish, describe,
    notice, lift, push, pull, measure, buy:bought:bought, sell:sold:sold, order, choose:chose:chosen, mend,
    bring:brought:brought, take:took:taken, pick up, put+:put:put away, throw:threw:thrown away, look for,
    forget+:forgot:forgotten, return, deliver, examine, inspect, weigh, replace, share, steal:stole:stolen,
    unpack, dust, dry, rinse, decorate, photograph, draw:drew:drawn, sketch, admire, test, use, grab+,
    rent, donate, recycle, store, spot+, drag+, mail, fetch, sort, wipe, scrub+, unwrap, search for,
    give:gave:given away, set+:set:set down, hang:hung:hung up, sell:sold:sold, open, lock, unlock, hug+,
    squeeze, shake:shook:shaken, tap+, sniff, guard, win+:won:won, wear:wore:worn, carve, bend:bent:bent,
    break:broke:broken, fold, iron, sew:sewed:sewn, tie, untie, load, unload, empty, fill, refill, rescue,
    lend:lent:lent, upgrade, assemble, adjust, sharpen, tighten, loosen, drop+ off, try on, clean up,
    pass, toss, catch:caught:caught, kick, roll, stack, collect, arrange, hand over, identify, recognize,
    remember, design, print, sign, scan, copy, pay:paid:paid for, wrap+ up, knock over, point at
""")
# a subset that reads well in the passive voice: "the lamp was repaired by the electrician"
PASSIVE_VERBS = _verbs("""
    find:found:found, fix, repair, clean, wash, move, paint, polish, buy:bought:bought, sell:sold:sold,
    deliver, inspect, replace, steal:stole:stolen, unpack, photograph, donate, recycle, mend, sort, wrap+,
    decorate, examine, weigh, sketch, design, print, sign, collect, carve, assemble, break:broke:broken,
    sew:sewed:sewn, sharpen, rescue, hide:hid:hidden, return, borrow, throw:threw:thrown away, pick up,
    take:took:taken, lend:lent:lent, drop+ off, knock over, iron, measure, label, restore, test, load
""")
# any food or drink
FOOD_VERBS = _verbs("""
    buy:bought:bought, order, bring:brought:brought, share, serve, taste, try, want, need, like, love, enjoy,
    finish, save, sell:sold:sold, carry, pack, grab+, prepare, smell, choose:chose:chosen, find:found:found,
    make:made:made, take:took:taken, hide:hid:hidden, offer, recommend, deliver, forget+:forgot:forgotten,
    pay:paid:paid for, ask for, reach for, spill, put+:put:put away, warm up, cool down, look for, pick up,
    split+:split:split
""")
EAT_VERBS = _verbs("eat:ate:eaten, bite:bit:bitten into, nibble, devour, gobble, munch on, chew, swallow, finish")
CUT_VERBS = _verbs("""
    slice, chop+, peel, cut+:cut:cut, wash, dice, mash, grate, squeeze, weigh, pick, plant, grow:grew:grown
""")
COOK_VERBS = _verbs("cook, heat, stir+, make:made:made, reheat, taste, season, boil, simmer, warm up, serve, bake")
DRINK_VERBS = _verbs("drink:drank:drunk, pour, sip+, spill, make:made:made, heat, chill, finish, gulp")
# people as objects: "met the new teacher"
PERSON_VERBS = _verbs("""
    meet:met:met, call, visit, help, thank, invite, follow, teach:taught:taught, join, miss, warn, greet,
    remember, ask, pay:paid:paid, hire, trust, phone, wake:woke:woken up, forgive:forgave:forgiven,
    recognize, interview, surprise, watch, hug+, email, praise, blame, comfort, encourage, chase, find:found:found,
    tease, admire, interrupt, annoy, impress, ignore, avoid, see:saw:seen, hear:heard:heard, notice,
    congratulate, welcome, pick up, amuse, applaud, scold, convince, support, photograph, paint, draw:drew:drawn,
    understand:understood:understood, believe, serve,
    cheer up, look after, wave at, smile at, call on, wait for, look for, text, introduce, guide, rescue,
    feed:fed:fed, cheer for, sit:sat:sat with, play:played:played with, dance:danced:danced with,
    argue with, laugh with, talk to, write:wrote:written to, listen to, worry about, dream:dreamed:dreamed about
""")
# places as objects: "visited the museum"
PLACE_VERBS = _verbs("""
    visit, leave:left:left, reach, pass, enter, explore, photograph, describe, find:found:found, search,
    approach, tour, avoid, love, miss, like, enjoy, paint, draw:drew:drawn, sketch, guard, admire, remember,
    recommend, clean, decorate, map+, measure, inspect, check, walk:walked:walked past, drive:drove:driven past,
    run+:ran:run past, look for, pass by
""")
ROOM_VERBS = _verbs("""
    clean, sweep:swept:swept, paint, tidy, decorate, vacuum, mop+, air out, light:lit:lit, lock, unlock, heat, cool,
    redecorate, clean out
""")
# going somewhere: "hurried to the bakery"
MOTION_VERBS = _verbs("""
    go:went:gone, walk, drive:drove:driven, hurry, return, come:came:come, run+:ran:run, rush, head, wander,
    stroll, cycle, jog+, race, travel, ride:rode:ridden, march, skip+, dash, tiptoe, hike, climb, swim+:swam:swum,
    sprint, limp, crawl, hop+, move, slip+ off, set+:set:set off, run+:ran:run back, walk back, drive:drove:driven back,
    fly:flew:flown, sail, paddle, skate, ski, row, commute, hitchhike, carpool, drift
""")
# going to a city by some transport: "traveled to Lisbon by train"
TRAVEL_VERBS = _verbs("go:went:gone, travel, move, return, come:came:come back, commute, head, hurry back")
# people doing something on their own: "laughed loudly"
INTRANSITIVE_VERBS = _verbs("""
    laugh, smile, sing:sang:sung, dance, cry, wait, rest, work, cook, read:read:read, write:wrote:written,
    swim+:swam:swum, run+:ran:run, walk, travel, shout, whisper, listen, study, paint, draw:drew:drawn, jog+,
    sneeze, cough, yawn, arrive, leave:left:left, complain, agree, win+:won:won, lose:lost:lost, relax, knit+,
    practice, hurry, stay, return, vote, shop+, sleep:slept:slept, snore, sigh, giggle, grin+, nod+, wave,
    clap+, cheer, argue, apologize, hesitate, shiver, stretch, kneel:knelt:knelt, sit+:sat:sat down,
    stand:stood:stood up, wake:woke:woken up, get+:got:gotten up, calm down, fall:fell:fallen asleep,
    settle down, speak:spoke:spoken, talk, exercise, jump, climb, skate, ski, surf, sail, fish, hike, camp,
    bake, sew:sewed:sewn, type, drive:drove:driven, teach:taught:taught, learn, sketch, whistle, hum+,
    volunteer, celebrate, dream:dreamed:dreamed, think:thought:thought, struggle, recover, improve, succeed,
    fail, shrug+, frown, pause, blush, dine, meditate, garden, paddle, bow, hum+ along, tidy up, clean up,
    cook dinner, wash up, dress up, eat:ate:eaten out, stay up late, sleep:slept:slept in, show:showed:shown up,
    chat+, gossip, joke, pray, scream, weep:wept:wept, shout back, worry, doze off,
    daydream, stammer, mumble, grumble, wander off, log+ off, sign up, warm up, cool off
""")
# animals: "the little rabbit hid under the bench"
ANIMAL_VERBS = _verbs("""
    sleep:slept:slept, hide:hid:hidden, rest, wait, play, sit+:sat:sat, lie:lay:lain, nap+, curl up, hop+,
    shiver, hunt, dig+:dug:dug, sniff around, peek out, stay, crouch, wander, scamper, doze, squeak, snooze,
    purr, nest, perch, splash about, stretch out, stand:stood:stood, run+:ran:run around, stare out, shelter
""")
# verbs taking a to-infinitive: "decided to visit"
TO_VERBS = _verbs("""
    want, need, plan+, hope, decide, promise, try, refuse, agree, forget+:forgot:forgotten, remember, learn,
    offer, like, love, hate, prefer+, start, begin+:began:begun, wish, expect, intend, prepare, arrange,
    manage, attempt, pretend, choose:chose:chosen, mean:meant:meant, deserve, hesitate, dare, volunteer
""")
ASK_VERBS = _verbs("""
    ask, tell:told:told, remind, beg+, encourage, invite, allow, teach:taught:taught, help, warn, advise, persuade,
    urge, expect, want
""")
SAY_VERBS = _verbs("""
    say:said:said, think:thought:thought, hear:heard:heard, promise, explain, mention, announce, believe, guess,
    suggest, insist, admit+, realize, complain, hope, fear, know:knew:known, whisper, shout, write:wrote:written,
    read:read:read, claim, report, agree, notice
""")
# verbs for dates and numbers: "finished 3rd in the race"
PLACE_IN_VERBS = _verbs("finish, come:came:come, place, end:ended:ended up")

PRONOUN_SUBJECTS = (("I", "I"), ("you", "pl"), ("we", "pl"), ("they", "pl"), ("he", "sg"), ("she", "sg"))
OBJECT_PRONOUNS = _w("him her them us me you")
POSSESSIVES = _w("my your his her our their")

# ---------------------------------------------------------------------------------------------
# English morphology

_PLURALS = {
    "child": "children", "man": "men", "woman": "women", "person": "people", "mouse": "mice",
    "goose": "geese", "foot": "feet", "tooth": "teeth", "sheep": "sheep", "deer": "deer", "moose": "moose",
    "fish": "fish", "salmon": "salmon", "trout": "trout", "knife": "knives", "wife": "wives",
    "leaf": "leaves", "loaf": "loaves", "shelf": "shelves", "wolf": "wolves", "calf": "calves",
    "half": "halves", "scarf": "scarves", "thief": "thieves", "life": "lives", "midwife": "midwives",
    "potato": "potatoes", "tomato": "tomatoes", "hero": "heroes", "volcano": "volcanoes",
    "mango": "mangoes", "buffalo": "buffaloes", "mosquito": "mosquitoes", "ox": "oxen",
    "jellyfish": "jellyfish", "starfish": "starfish", "goldfish": "goldfish", "bison": "bison",
    "reindeer": "reindeer", "dice": "dice", "domino": "dominoes", "yak": "yaks", "yo-yo": "yo-yos",
    "pocketknife": "pocketknives", "axe": "axes", "bookshelf": "bookshelves", "thermos": "thermoses",
    "salesman": "salesmen", "fisherman": "fishermen", "postman": "postmen", "seahorse": "seahorses",
}


def plural(noun: str) -> str:
    """The plural of a noun or noun phrase (its last word is inflected): ``"bus driver" -> "bus drivers"``."""
    head, _, last = noun.rpartition(" ")
    if last in _PLURALS:
        out = _PLURALS[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        out = last + "es"
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
        out = last[:-1] + "ies"
    else:
        out = last + "s"
    return f"{head} {out}" if head else out


_A_BEFORE_VOWEL = ("uni", "use", "usu", "uten", "ukul", "eu", "one", "once")
_AN_BEFORE_H = ("hour", "honest", "honor", "heir")


def article(word: str) -> str:
    """``"a"`` or ``"an"`` for the (spoken) sound that ``word`` starts with: an hour, a uniform, an 8-minute."""
    w = word.lower()
    if w[:1].isdigit():
        digits = w.split("-")[0].split(".")[0].replace(",", "")
        n = int("".join(ch for ch in digits if ch.isdigit()))
        return "an" if n == 8 or n in (11, 18) or 80 <= n <= 89 or 800 <= n <= 899 else "a"
    if w.startswith(_AN_BEFORE_H):
        return "an"
    if w[:1] in ("a", "e", "i", "o", "u") and not w.startswith(_A_BEFORE_VOWEL):
        return "an"
    return "a"


def _an(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def ordinal(n: int) -> str:
    """Digits with their ordinal suffix: ``1 -> "1st"``, ``12 -> "12th"``, ``23 -> "23rd"``."""
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    return str(n) + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def _present(verb: tuple, kind: str) -> str:
    return verb[S] if kind == "sg" else verb[B]


def _be_present(kind: str) -> str:
    return {"I": "am", "sg": "is"}.get(kind, "are")


def _be_past(kind: str) -> str:
    return "were" if kind == "pl" else "was"


def _do(kind: str) -> str:
    return "does" if kind == "sg" else "do"


def _have(kind: str) -> str:
    return "has" if kind == "sg" else "have"


_NUMBER_WORDS = _w("two three four five six seven eight nine ten eleven twelve fifteen twenty")
_FEW = _c("""
    two, three, four, five, six, seven, eight, nine, ten, twelve, a few, several, some, a dozen, twenty, many, a
    couple of
""")

# ---------------------------------------------------------------------------------------------
# phrases

_HOUSE_PART_VERBS = _verbs("""
    paint, fix, repair, clean, wash, measure, inspect, check, decorate, replace, scrub+, polish, photograph
""")
_WHAT_VERBS = _verbs("""
    find:found:found, lose:lost:lost, buy:bought:bought, sell:sold:sold, order, choose:chose:chosen,
    bring:brought:brought, take:took:taken, pick up, look for, forget+:forgot:forgotten, leave:left:left,
    see:saw:seen, notice, draw:drew:drawn, paint, photograph, cook, eat:ate:eaten, make:made:made,
    win+:won:won, hide:hid:hidden, keep:kept:kept, hear:heard:heard, read:read:read, write:wrote:written
""")
_WHICH_VERBS = _verbs("""
    choose:chose:chosen, buy:bought:bought, want, borrow, pick, prefer+, like, order, need, sell:sold:sold,
    find:found:found, lose:lost:lost, paint, fix
""")
_OBJECT_COUNT_VERBS = _verbs("""
    buy:bought:bought, find:found:found, need, count, sell:sold:sold, pack, see:saw:seen, order, fix, paint, carry,
    collect, lose:lost:lost, make:made:made
""")
_FOOD_COUNT_VERBS = _verbs("""
    eat:ate:eaten, buy:bought:bought, bake, pick, need, want, sell:sold:sold, order, peel, slice, count,
    bring:brought:brought
""")
_DISTANCE_VERBS = _verbs("""
    walk, run+:ran:run, drive:drove:driven, cycle, jog+, hike, swim+:swam:swum, ride:rode:ridden, paddle, row,
    skate, sail, travel
""")
_MAKE_VERBS = _verbs("""
    buy:bought:bought, find:found:found, make:made:made, paint, build:built:built, draw:drew:drawn,
    choose:chose:chosen, win+:won:won, bring:brought:brought, sew:sewed:sewn, knit+, carve, design
""")
_PERSON_COMPARATIVES = tuple(c for c in COMPARISONS if c[0] in _w("""
    tall short old young busy happy kind brave calm clever funny lazy wise rich poor strong quiet loud fast
    slow lucky early late"""))
_OBJECT_COMPARATIVES = tuple(c for c in COMPARISONS if c[0] in _w("""
    big small old new heavy light cheap tall short long wide narrow thick thin soft hard clean dirty shiny
    sharp warm cold safe strong quiet loud fast slow pretty ugly simple fancy plain dark bright smooth rough
    good bad tiny"""))
_FOOD_COMPARATIVES = tuple(c for c in COMPARISONS if c[0] in _w("""
    big small sweet fresh tasty spicy salty crisp ripe juicy cheap good bad soft hard"""))
_SINGULAR_DETERMINERS = _w("the the the a a my your his her our their this that NAME")
_PLURAL_DETERMINERS = _c(
    "the, the, some, these, those, my, our, their, two, three, a few, several, his, her, your, NAME"
)
_SPOTS = _c("under, on, behind, beside, next to, near, in front of, on top of, inside, below, above")
_NEAR = _c("near, behind, beside, next to, close to, not far from, across from, opposite")


class _Gen:
    """One random stream and the phrase builders that draw from it."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick(self, seq):
        return self.rng.choice(seq)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def opt(self, text: str, p: float = 0.5) -> str:
        """``" " + text`` with probability ``p``, else ``""``."""
        return " " + text if self.chance(p) else ""

    # people ------------------------------------------------------------------------------

    def name(self) -> str:
        if self.chance(0.2):
            return f"{self.pick(TITLES)} {self.pick(SURNAMES)}"
        return self.pick(FIRST_NAMES)

    def person(self, pronoun: bool = True) -> tuple[str, str]:
        """A subject and its agreement: (text, ``"I"``, ``"sg"`` or ``"pl"``)."""
        r = self.rng.random()
        if r < 0.25:
            return self.name(), "sg"
        if r < 0.50:
            noun = self.pick(JOBS) if self.chance(0.6) else self.pick(RELATIVES)
            if self.chance(0.4):
                noun = f"{self.pick(PERSON_ADJECTIVES)} {noun}"
            det = self.pick(_w("the the the my your his her our their this that a a"))
            return (_an(noun) if det == "a" else f"{det} {noun}"), "sg"
        if r < 0.58:
            return f"{self.pick(FIRST_NAMES)}'s {self.pick(RELATIVES)}", "sg"
        if r < 0.75 or not pronoun:
            s = self.rng.random()
            if s < 0.35:
                a, b = self.rng.sample(FIRST_NAMES, 2)
                return f"{a} and {b}", "pl"
            if s < 0.55:
                return f"{self.pick(POSSESSIVES)} {self.pick(PLURAL_RELATIVES)}", "pl"
            noun = plural(self.pick(JOBS))
            if self.chance(0.4):
                noun = f"{self.pick(PERSON_ADJECTIVES)} {noun}"
            return f"{self.pick(_c('the, the, two, three, some, several, our, a few, both'))} {noun}", "pl"
        return self.pick(PRONOUN_SUBJECTS)

    def person_object(self, subject: str = "") -> str:
        """A person as an object, never the same words as ``subject`` (nor "me" after "I")."""
        while True:
            if self.chance(0.15):
                obj = self.pick(OBJECT_PRONOUNS)
            else:
                obj = self.person(pronoun=False)[0]
            if obj != subject and (subject, obj) not in (("I", "me"), ("we", "us"), ("you", "you")):
                return obj

    # things ------------------------------------------------------------------------------

    def adjectives(self, quality=OBJECT_ADJECTIVES, colour: bool = True, material: bool = True) -> str:
        """Zero to three adjectives in English order (quality, colour, material)."""
        words = []
        if self.chance(0.45):
            words.append(self.pick(quality))
        if colour and self.chance(0.3):
            words.append(self.pick(COLORS))
        if material and self.chance(0.12):
            words.append(self.pick(MATERIALS))
        return " ".join(words)

    def determined(self, noun: str, many: bool, dets: tuple | None = None) -> str:
        """``noun`` after a determiner: "the", "a"/"an", a possessive, a name's, or for plurals a number."""
        if dets is None:
            dets = _PLURAL_DETERMINERS if many else _SINGULAR_DETERMINERS
        det = self.pick(dets)
        if many:
            det = {"a": "some", "this": "these", "that": "those"}.get(det, det)
        if det == "NAME":
            det = f"{self.pick(FIRST_NAMES)}'s"
        return _an(noun) if det == "a" else f"{det} {noun}"

    def thing(self, many: bool | None = None, nouns=OBJECTS, dets=None, adj: bool = True) -> str:
        """An object phrase: "the old green umbrella", "three wooden spoons", "Maya's kite"."""
        if many is None:
            many = self.chance(0.25)
        noun = self.pick(nouns)
        if many:
            noun = plural(noun)
        a = self.adjectives() if adj else ""
        return self.determined(f"{a} {noun}" if a else noun, many, dets)

    def the_thing(self, many: bool = False) -> str:
        return self.thing(many, dets=("the",))

    def food(self, kind: str | None = None) -> str:
        """A food or drink phrase: "three ripe plums", "a bowl of hot soup", "some cold lemonade"."""
        kind = kind or self.pick(("count", "count", "count", "meal", "drink", "piece", "ingredient"))
        adjective = f"{self.pick(FOOD_ADJECTIVES)} " if self.chance(0.35) else ""
        if kind == "count":
            noun = self.pick(FRUITS + VEGETABLES + SNACKS + SNACKS)
            r = self.rng.random()
            if r < 0.35:
                return _an(adjective + noun)
            if r < 0.55:
                return f"the {adjective}{noun}"
            return f"{self.pick(_FEW)} {adjective}{plural(noun)}"
        noun = self.pick({"meal": MEALS, "drink": DRINKS, "piece": PIECE_FOODS, "ingredient": INGREDIENTS}[kind])
        r = self.rng.random()
        if r < 0.45:
            return f"{_an(self.pick(FOOD_CONTAINERS[kind]))} of {adjective}{noun}"
        if r < 0.7:
            return f"some {adjective}{noun}"
        return f"the {adjective}{noun}"

    def food_for(self, verbs_kind: str) -> tuple[tuple, str]:
        """A verb and a food it fits."""
        if verbs_kind == "eat":
            return self.pick(EAT_VERBS), self.food(self.pick(("count", "count", "meal", "piece")))
        if verbs_kind == "cut":
            noun = self.pick(FRUITS + VEGETABLES)
            return self.pick(CUT_VERBS), self.pick((_an(noun), f"the {noun}", f"{self.pick(_FEW)} {plural(noun)}",
                                                    f"the {plural(noun)}"))
        if verbs_kind == "cook":
            return self.pick(COOK_VERBS), self.food("meal")
        if verbs_kind == "drink":
            return self.pick(DRINK_VERBS), self.food("drink")
        return self.pick(FOOD_VERBS), self.food()

    def transitive(self) -> tuple[tuple, str]:
        """A verb and an object that fits it: a thing, a food, a person, a place, a room or part of a house."""
        r = self.rng.random()
        if r < 0.34:
            return self.pick(THING_VERBS), self.thing()
        if r < 0.52:
            return self.food_for(self.pick(("any", "any", "eat", "cut", "cook", "drink")))
        if r < 0.68:
            return self.pick(PERSON_VERBS), self.person_object()
        if r < 0.82:
            return self.pick(PLACE_VERBS), self.place()
        if r < 0.91:
            return self.pick(ROOM_VERBS), self.determined(self.pick(ROOMS), False, _w("the the my our their her his"))
        a = self.adjectives(material=False)
        noun = self.pick(HOUSE_PARTS)
        return self.pick(_HOUSE_PART_VERBS), self.determined(f"{a} {noun}" if a else noun, False,
                                                              _w("the the my our their his her"))

    # places ------------------------------------------------------------------------------

    def place(self, with_prep: bool = False) -> str:
        """A place: "the busy station"; with ``with_prep`` where at it: "at the busy station"."""
        prep, noun = self.pick(PLACES).split(":")
        if self.chance(0.25):
            noun = f"{self.pick(PLACE_ADJECTIVES)} {noun}"
        np = f"the {noun}"
        if with_prep and self.chance(0.3):
            prep = self.pick(_NEAR + (("outside", "inside") if prep in ("at", "in") else ()))
        return f"{prep} {np}" if with_prep else np

    def where(self) -> str:
        """Where: at a place, in a city, or beside a thing."""
        r = self.rng.random()
        if r < 0.65:
            return self.place(with_prep=True)
        if r < 0.8:
            return f"in {self.pick(CITIES)}"
        a = f"{self.pick(OBJECT_ADJECTIVES)} " if self.chance(0.3) else ""
        return f"{self.pick(_SPOTS)} the {a}{self.pick(OBJECTS + HOUSE_PARTS)}"

    def destination(self) -> str:
        return f"to {self.place()}" if self.chance(0.75) else f"to {self.pick(CITIES)}"

    # numbers and times -------------------------------------------------------------------

    def clock(self) -> str:
        h = self.rng.randint(1, 12)
        m = self.pick((0, 0, 15, 30, 45, self.rng.randint(1, 59), self.rng.randint(1, 59)))
        return f"{h}:{m:02d}"

    def money(self) -> str:
        r = self.rng.random()
        if r < 0.45:
            return f"${self.rng.randint(1, 99)}"
        if r < 0.75:
            return f"${self.rng.randint(0, 60)}.{self.rng.randint(1, 99):02d}"
        if r < 0.9:
            return f"${self.rng.randint(100, 999)}"
        return f"${self.rng.randint(1, 9)},{self.rng.randint(0, 999):03d}"

    def year(self) -> str:
        years = (self.rng.randint(1800, 1999), self.rng.randint(1950, 2024), self.rng.randint(1200, 1799))
        return str(self.pick(years))

    def count(self) -> str:
        r = self.rng.random()
        if r < 0.55:
            return str(self.rng.randint(2, 99))
        if r < 0.85:
            return str(self.rng.randint(100, 999))
        return f"{self.rng.randint(1, 99)},{self.rng.randint(0, 999):03d}"

    def date(self) -> str:
        return f"{self.pick(MONTHS)} {ordinal(self.rng.randint(1, 28))}"

    def time(self, tense: str) -> str:
        """A time phrase that fits ``tense``: ``"past"``, ``"future"`` or ``"habit"`` (a present habit)."""
        pk = self.pick
        r = self.rng.randrange(22)
        if tense == "past":
            return (
                "yesterday", f"yesterday {pk(DAY_PARTS[:3])}", f"last {pk(WEEKDAYS)}", f"last {pk(SEASONS)}",
                f"on {pk(WEEKDAYS)}", f"on {pk(WEEKDAYS)} {pk(DAY_PARTS)}", f"in {pk(MONTHS)}", f"in {self.year()}",
                f"{pk(_NUMBER_WORDS)} {pk(('days', 'weeks', 'months', 'years'))} ago",
                f"last {pk(('week', 'month', 'year', 'night'))}", f"this {pk(DAY_PARTS[:3])}", "earlier today",
                f"at {self.clock()}", f"before {pk(MEAL_TIMES)}", f"after {pk(MEAL_TIMES)}",
                f"at {pk(('noon', 'midnight', 'dawn', 'dusk', 'sunrise', 'sunset'))}",
                f"on the {ordinal(self.rng.randint(1, 28))} of {pk(MONTHS)}", f"on {self.date()}",
                f"during the {pk(EVENTS)}", f"after the {pk(EVENTS)}", f"a {pk(('week', 'month', 'year'))} ago",
                f"in the {pk(DAY_PARTS[:3])}",
            )[r]
        if tense == "future":
            return (
                "tomorrow", f"tomorrow {pk(DAY_PARTS[:3])}", f"next {pk(WEEKDAYS)}", f"next {pk(SEASONS)}",
                f"next {pk(('week', 'month', 'year'))}", f"on {pk(WEEKDAYS)}", f"in {pk(MONTHS)}", "tonight",
                "later today", f"this {pk(('evening', 'afternoon', 'weekend'))}", f"in {pk(_NUMBER_WORDS)} days",
                "in a few days", f"at {self.clock()}", f"after {pk(MEAL_TIMES)}", f"before {pk(MEAL_TIMES)}",
                f"on the {ordinal(self.rng.randint(1, 28))} of {pk(MONTHS)}", "soon", f"after the {pk(EVENTS)}",
                f"before the {pk(EVENTS)}", f"on {self.date()}", f"by {pk(WEEKDAYS)}",
                f"in {self.rng.randint(2030, 2099)}",
            )[r]
        return (
            f"every {pk(WEEKDAYS)}", f"on {pk(WEEKDAYS)}s",
            f"every {pk(('morning', 'evening', 'weekend', 'summer', 'winter'))}",
            f"in the {pk(DAY_PARTS[:3])}", f"after {pk(MEAL_TIMES)}", f"before {pk(MEAL_TIMES)}", "on weekends",
            f"in {pk(SEASONS)}", f"{pk(('once', 'twice', 'three times'))} a {pk(('day', 'week', 'month', 'year'))}",
            f"at {self.clock()} every day", f"after {pk(('school', 'work', 'class', 'practice'))}",
            f"every {pk(('day', 'week', 'month'))}",
        )[r % 12]

    def weather(self) -> str:
        a, b = self.rng.sample(WEATHER, 2)
        return f"{a} and {b}" if self.chance(0.5) else a

    def manner(self) -> str:
        return self.pick(MANNER_ADVERBS)

    def animal(self) -> tuple[str, str]:
        """An animal phrase and its agreement: ("the sleepy gray cat", "sg"), ("three goats", "pl")."""
        many = self.chance(0.25)
        noun = self.pick(ANIMALS)
        if many:
            noun = plural(noun)
        words = []
        if self.chance(0.5):
            words.append(self.pick(ANIMAL_ADJECTIVES))
        if self.chance(0.25):
            words.append(self.pick(COLORS))
        noun = " ".join(words + [noun])
        if many:
            return self.determined(noun, True, _c("the, the, some, two, three, several, our, NAME, a few, both")), "pl"
        return self.determined(noun, False, _w("the the a my our their her his NAME")), "sg"

    def clause_past(self) -> str:
        """A past-tense predicate: "laughed loudly", "hurried to the bakery", "found an old key"."""
        r = self.rng.random()
        if r < 0.3:
            return f"{self.pick(INTRANSITIVE_VERBS)[P]} {self.manner()}"
        if r < 0.55:
            return f"{self.pick(MOTION_VERBS)[P]} {self.destination()}"
        verb, obj = self.transitive()
        return f"{verb[P]} {obj}"


# ---------------------------------------------------------------------------------------------
# sentence shapes: each takes a _Gen and returns one sentence (capitalized and spaced by _finish)


def _past_action(g: _Gen) -> str:
    subj, _ = g.person()
    verb, obj = g.transitive()
    extra = g.pick(("", g.where(), g.time("past"), f"{g.where()} {g.time('past')}", g.manner()))
    return f"{subj} {verb[P]} {obj} {extra}."


def _past_intransitive(g: _Gen) -> str:
    subj, _ = g.person()
    verb = g.pick(INTRANSITIVE_VERBS)
    return f"{subj} {verb[P]} {g.manner()} {g.pick((g.where(), g.time('past'), g.where() + ' ' + g.time('past')))}."


def _past_motion(g: _Gen) -> str:
    subj, _ = g.person()
    verb = g.pick(MOTION_VERBS)
    to = g.destination()
    return f"{subj} {verb[P]} {to} {g.pick((g.time('past'), g.manner(), g.manner() + ' ' + g.time('past')))}."


def _animal_scene(g: _Gen) -> str:
    a, kind = g.animal()
    verb = g.pick(ANIMAL_VERBS)
    tense = g.pick(("past", "past", "present", "progressive"))
    if tense == "past":
        return f"{a} {verb[P]} {g.where()}{g.opt(g.time('past'), 0.3)}."
    if tense == "present":
        return f"{a} {g.pick(FREQUENCY_ADVERBS)} {_present(verb, kind)} {g.where()}."
    return f"{a} {_be_present(kind)} {verb[ING]} {g.where()}{g.opt(g.pick(('right now', 'again', 'today')))}."


def _habit(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    return f"{subj} {g.pick(FREQUENCY_ADVERBS)} {_present(verb, kind)} {obj} {g.time('habit')}."


def _habit_intransitive(g: _Gen) -> str:
    subj, kind = g.person()
    verb = g.pick(INTRANSITIVE_VERBS)
    often = g.pick(FREQUENCY_ADVERBS)
    return f"{subj} {often} {_present(verb, kind)} {g.pick((g.where(), g.time('habit'), g.manner()))}."


def _progressive(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    tail = g.pick((g.where(), "right now", "at the moment", g.where() + " right now", "this week", "again"))
    return f"{subj} {_be_present(kind)} {verb[ING]} {obj} {tail}."


def _perfect(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    adv = g.pick(("never", "already", "just", "recently", "finally", "often", "always", "not yet"))
    if adv == "not yet":
        return f"{subj} {_have(kind)} not {verb[PP]} {obj} yet."
    return f"{subj} {_have(kind)} {adv} {verb[PP]} {obj}{g.opt(g.where())}."


def _future(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    form = g.pick(("will", "will", "going", "might", "planning", "probably"))
    time = g.time("future")
    if form == "going":
        return f"{subj} {_be_present(kind)} going to {verb[B]} {obj} {time}."
    if form == "planning":
        return f"{subj} {_be_present(kind)} planning to {verb[B]} {obj} {time}."
    if form == "probably":
        return f"{subj} will probably {verb[B]} {obj} {time}."
    return f"{subj} {form} {verb[B]} {obj} {time}."


def _future_motion(g: _Gen) -> str:
    subj, kind = g.person()
    verb = g.pick(MOTION_VERBS)
    modal = g.pick(("will", "might", "should", "must", "can", "could", "would like to", "hope to", "ought to"))
    if modal == "hope to" and kind == "sg":
        modal = "hopes to"
    return f"{subj} {modal} {verb[B]} {g.destination()} {g.time('future')}."


def _did_question(g: _Gen) -> str:
    subj, _ = g.person()
    verb, obj = g.transitive()
    return f"Did {subj} {verb[B]} {obj} {g.pick((g.time('past'), g.where(), ''))}?"


def _does_question(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    adv = g.pick(("", "", "often", "ever", "usually", "still", "really", "sometimes"))
    return f"{_do(kind).capitalize()} {subj} {adv} {verb[B]} {obj}{g.opt(g.time('habit'))}?"


def _modal_question(g: _Gen) -> str:
    subj, _ = g.person()
    verb, obj = g.transitive()
    modal = g.pick(("Can", "Could", "Should", "Will", "Would", "Must", "Might", "Shall"))
    if modal == "Shall" and subj not in ("I", "we"):
        modal = "Should"
    return f"{modal} {subj} {verb[B]} {obj} {g.pick((g.time('future'), g.where(), ''))}?"


def _wh_question(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    wh = g.pick(("Where", "When", "Why", "How", "How often", "At what time", "For how long"))
    form = g.pick(("did", "will", "do", "is", "has", "can", "should"))
    if form == "do":
        return f"{wh} {_do(kind)} {subj} {verb[B]} {obj}?"
    if form == "is":
        return f"{wh} {_be_present(kind)} {subj} {verb[ING]} {obj}?"
    if form == "has":
        return f"{wh} {_have(kind)} {subj} {verb[PP]} {obj}?"
    return f"{wh} {form} {subj} {verb[B]} {obj}?"


def _who_question(g: _Gen) -> str:
    verb, obj = g.transitive()
    form = g.pick(("past", "past", "will", "perfect", "progressive"))
    if form == "past":
        return f"Who {verb[P]} {obj} {g.pick((g.where(), g.time('past')))}?"
    if form == "will":
        return f"Who will {verb[B]} {obj} {g.time('future')}?"
    if form == "perfect":
        return f"Who has {verb[PP]} {obj} {g.pick(('', 'already', 'this week', 'today'))}?"
    return f"Who is {verb[ING]} {obj} {g.where()}?"


def _what_question(g: _Gen) -> str:
    subj, kind = g.person()
    verb = g.pick(_WHAT_VERBS)
    form = g.pick(("did", "will", "do"))
    if form == "did":
        return f"What did {subj} {verb[B]} {g.where()}{g.opt(g.time('past'))}?"
    if form == "will":
        return f"What will {subj} {verb[B]} {g.where()}{g.opt(g.time('future'))}?"
    return f"What {_do(kind)} {subj} usually {verb[B]} {g.where()}{g.opt(g.time('habit'))}?"


def _which_question(g: _Gen) -> str:
    subj, _ = g.person()
    noun = g.pick(OBJECTS + VEHICLES + FRUITS)
    if g.chance(0.3):
        noun = plural(noun)
    a = g.adjectives(material=False)
    return f"Which {a} {noun} did {subj} {g.pick(_WHICH_VERBS)[B]} {g.pick((g.time('past'), g.where()))}?"


def _how_many(g: _Gen) -> str:
    subj, kind = g.person()
    if g.chance(0.5):
        noun, verb = plural(g.pick(OBJECTS)), g.pick(_OBJECT_COUNT_VERBS)
    else:
        noun, verb = plural(g.pick(FRUITS + VEGETABLES + SNACKS)), g.pick(_FOOD_COUNT_VERBS)
    aux = g.pick(("did", "will", "do"))
    if aux == "do":
        aux = _do(kind)
    return f"How many {noun} {aux} {subj} {verb[B]} {g.pick((g.where(), ''))}?"


def _be_question(g: _Gen) -> str:
    subj, kind = g.person()
    if g.chance(0.5):
        be, when = _be_present(kind), g.pick(("today", "this week", "right now", "these days", "at work", "at school"))
    else:
        be, when = _be_past(kind), g.time("past")
    adj = g.pick(PERSON_ADJECTIVES)
    very = g.pick(("", "very", "still", "really", "too"))
    return f"{be.capitalize()} {subj} {very} {adj} {g.pick((when, g.where()))}?"


def _whose_question(g: _Gen) -> str:
    many = g.chance(0.3)
    noun = g.pick(OBJECTS)
    np = f"{g.adjectives(material=False)} {plural(noun) if many else noun}"
    be = ("are" if many else "is") if g.chance(0.6) else ("were" if many else "was")
    return f"Whose {np} {be} {g.pick(('lying', 'sitting', 'left', 'hidden', ''))} {g.where()}?"


def _command(g: _Gen) -> str:
    verb, obj = g.transitive()
    r = g.rng.random()
    if r < 0.3:
        return f"Please {verb[B]} {obj} {g.pick((g.time('future'), g.where(), g.manner()))}."
    if r < 0.55:
        return f"{verb[B]} {obj} {g.manner()}{g.pick(('!', '.'))}"
    if r < 0.8:
        when = g.pick((g.time("future"), g.where(), "again", "without asking", "too quickly"))
        return f"Don't {verb[B]} {obj} {when}!"
    opener = g.pick(("Remember to", "Try to", "Never", "Always", "Be sure to", "Try not to"))
    return f"{opener} {verb[B]} {obj} {g.pick((g.time('future'), g.where()))}."


def _put_command(g: _Gen) -> str:
    verb = g.pick(("put", "place", "leave", "store", "keep", "hide", "set", "stack", "hang"))
    obj = g.thing(dets=("the", "the", "your", "my", "this", "that"))
    return f"{g.pick(('Please ', '', 'Carefully ', 'Now '))}{verb} {obj} {g.where()}{g.pick(('.', '!', ', please.'))}"


def _request(g: _Gen) -> str:
    verb, obj = g.transitive()
    opener = g.pick(("Could you", "Would you", "Can you", "Will you", "Could we", "Can someone", "Would anyone"))
    when = g.pick((g.time("future"), g.where(), "for me", "for a moment"))
    return f"{opener} {verb[B]} {obj} {when}{g.pick((', please?', '?'))}"


def _offer(g: _Gen) -> str:
    subj, kind = g.person()
    if subj == "I":
        subj, kind = "you", "pl"
    opener = g.pick(("Would", "Does", "Did", "Will"))
    if opener == "Does":
        opener, verb = _do(kind).capitalize(), g.pick(("like", "want", "need"))
    elif opener == "Did":
        verb = g.pick(("want", "ask for", "order", "enjoy", "like"))
    else:
        verb = g.pick(("like", "want", "enjoy", "prefer"))
    return f"{opener} {subj} {verb} {g.food()} {g.pick(('with', 'after', 'before', 'for'))} {g.pick(MEAL_TIMES)}?"


def _lets(g: _Gen) -> str:
    if g.chance(0.5):
        return f"Let's {g.pick(MOTION_VERBS)[B]} {g.destination()} {g.time('future')}."
    verb, obj = g.transitive()
    return f"Let's {verb[B]} {obj} {g.pick((g.time('future'), g.where()))}{g.pick(('.', '!'))}"


def _suggestion(g: _Gen) -> str:
    verb, obj = g.transitive()
    r = g.rng.random()
    if r < 0.5:
        return f"Why don't we {verb[B]} {obj} {g.time('future')}?"
    if r < 0.8:
        return f"How about {verb[ING]} {obj} {g.time('future')}?"
    return f"Maybe we should {verb[B]} {obj} {g.pick((g.time('future'), g.where()))}."


def _because(g: _Gen) -> str:
    subj, _ = g.person()
    first = g.pick((
        f"{g.pick(INTRANSITIVE_VERBS)[P]} {g.where()}", f"{g.pick(MOTION_VERBS)[P]} {g.destination()}",
        f"stayed {g.pick(('home', 'inside', 'late', 'in bed', 'at work'))}",
        f"{g.pick(TO_VERBS)[P]} to {g.pick(INTRANSITIVE_VERBS)[B]}",
    ))
    s2, k2 = g.person()
    reason = g.pick((
        f"{s2} {_be_past(k2)} {g.pick(PERSON_ADJECTIVES)}",
        f"{g.place()} was {g.pick(('closed', 'crowded', 'empty', 'noisy', 'cold', 'full', 'open', 'quiet'))}",
        f"it was {g.weather()}",
        f"{s2} {g.pick(TO_VERBS)[P]} to {g.pick(THING_VERBS)[B]} {g.thing()}",
        f"{s2} {g.pick(THING_VERBS)[P]} {g.thing()}",
        f"{g.the_thing()} was {g.pick(OBJECT_ADJECTIVES)}",
    ))
    return f"{subj} {first} because {reason}."


def _when_clause(g: _Gen) -> str:
    s1, _ = g.person()
    s2, _ = g.person()
    verb, obj = g.transitive()
    first = g.pick((f"arrived at {g.place()}", f"{g.pick(MOTION_VERBS)[P]} {g.destination()}",
                    f"{g.pick(('woke', 'got', 'stood', 'came', 'looked', 'showed', 'cleaned'))} up",
                    g.pick(INTRANSITIVE_VERBS)[P], f"opened {g.the_thing()}"))
    if g.chance(0.5):
        return f"When {s1} {first}, {s2} {verb[P]} {obj}."
    return f"{s2} {verb[P]} {obj} when {s1} {first}."


def _but_clause(g: _Gen) -> str:
    subj, _ = g.person()
    verb, obj = g.transitive()
    s2, k2 = g.person()
    second = g.pick((
        f"{g.place()} was closed", f"it was too {g.pick(WEATHER)}",
        f"{s2} {_be_past(k2)} too {g.pick(PERSON_ADJECTIVES)}",
        f"{s2} {g.pick(INTRANSITIVE_VERBS)[P]} instead", f"{g.the_thing()} was missing", "there was no time",
        f"{s2} said no", f"{g.the_thing()} was {g.pick(('broken', 'gone', 'locked', 'lost', 'empty'))}",
    ))
    opener = g.pick(("wanted to", "tried to", "planned to", "hoped to", "meant to", "decided to", "offered to"))
    return f"{subj} {opener} {verb[B]} {obj}, but {second}."


def _after_clause(g: _Gen) -> str:
    s1, _ = g.person()
    v1, o1 = g.transitive()
    s2, _ = g.person()
    word = g.pick(("After", "Before", "As soon as", "Once", "Just after"))
    return f"{word} {s1} {v1[P]} {o1}, {s2} {g.clause_past()}."


def _future_clause(g: _Gen) -> str:
    s1, k1 = g.person()
    s2, _ = g.person()
    verb, obj = g.transitive()
    word = g.pick(("Before", "After", "When", "As soon as", "Until", "Once"))
    go = f"{_present(g.pick(MOTION_VERBS), k1)} {g.destination()}"
    first = g.pick((go, _present(g.pick(INTRANSITIVE_VERBS), k1)))
    return f"{word} {s1} {first}, {s2} will {verb[B]} {obj}."


def _if_clause(g: _Gen) -> str:
    s2, _ = g.person()
    verb, obj = g.transitive()
    cond = g.pick((
        f"it {g.pick(('rains', 'snows', 'is ' + g.pick(WEATHER)))} {g.time('future')}",
        f"{g.place()} is {g.pick(('closed', 'open', 'crowded', 'quiet', 'empty'))}",
        f"{g.the_thing()} is {g.pick(('broken', 'ready', 'missing', 'too heavy', 'still wet', 'clean'))}",
    ))
    return f"If {cond}, {s2} will {verb[B]} {obj}{g.pick(('', ' ' + g.where(), ' instead', ' ' + g.manner()))}."


def _while_clause(g: _Gen) -> str:
    s1, k1 = g.person()
    s2, k2 = g.person()
    v1, o1 = g.transitive()
    if g.chance(0.5):
        v2, o2 = g.transitive()
        return f"{s1} {_be_past(k1)} {v1[ING]} {o1} while {s2} {_be_past(k2)} {v2[ING]} {o2}."
    return f"{s1} {_be_past(k1)} {v1[ING]} {o1} when {s2} {g.pick(INTRANSITIVE_VERBS)[P]}."


def _so_clause(g: _Gen) -> str:
    subj, _ = g.person()
    first = g.pick((f"{g.place()} was {g.pick(('closed', 'full', 'crowded', 'dark', 'noisy'))}",
                    f"it was {g.weather()} {g.time('past')}", f"{g.the_thing()} was {g.pick(OBJECT_ADJECTIVES)}"))
    return f"{first}, so {subj} {g.clause_past()}."


def _although(g: _Gen) -> str:
    subj, _ = g.person()
    s2, k2 = g.person()
    concession = g.pick((f"it was {g.weather()}", f"{s2} {_be_past(k2)} {g.pick(PERSON_ADJECTIVES)}",
                         f"{g.place()} was {g.pick(('far away', 'crowded', 'closed', 'noisy'))}"))
    return f"{g.pick(('Although', 'Even though', 'Though'))} {concession}, {subj} {g.clause_past()}."


def _reported(g: _Gen) -> str:
    s1, _ = g.person()
    s2, k2 = g.person()
    verb, obj = g.transitive()
    content = g.pick((
        f"{s2} would {verb[B]} {obj} {g.time('future')}",
        f"{s2} {verb[P]} {obj}",
        f"{s2} {_be_past(k2)} {g.pick(PERSON_ADJECTIVES)}",
        f"{g.the_thing()} was {g.where()}",
    ))
    return f"{s1} {g.pick(SAY_VERBS)[P]} that {content}."


def _ask_to(g: _Gen) -> str:
    s1, _ = g.person()
    p = g.person_object(s1)
    verb, obj = g.transitive()
    neg = "not " if g.chance(0.2) else ""
    ask = g.pick(ASK_VERBS)[P]
    return f"{s1} {ask} {p} {neg}to {verb[B]} {obj}{g.pick(('', ' ' + g.time('future'), ' ' + g.manner()))}."


def _to_infinitive(g: _Gen) -> str:
    subj, kind = g.person()
    want = g.pick(TO_VERBS)
    verb, obj = g.transitive()
    if g.chance(0.5):
        return f"{subj} {want[P]} to {verb[B]} {obj} {g.time('past')}."
    return f"{subj} {_present(want, kind)} to {verb[B]} {obj} {g.time('future')}."


def _passive(g: _Gen) -> str:
    many = g.chance(0.3)
    obj = g.thing(many, dets=_w(f"the the my our their {'these' if many else 'this'} NAME"))
    verb = g.pick(PASSIVE_VERBS)
    if g.chance(0.2):
        return f"{obj} will be {verb[PP]} {g.time('future')}."
    agent = g.pick((f"by {g.person(pronoun=False)[0]}", g.time("past"), g.where(),
                    f"by {g.person(pronoun=False)[0]} {g.time('past')}"))
    return f"{obj} {'were' if many else 'was'} {verb[PP]} {agent}."


def _ability(g: _Gen) -> str:
    subj, _ = g.person()
    modal = g.pick(("can", "could", "can't", "couldn't", "can already", "could never"))
    verb = g.pick(INTRANSITIVE_VERBS)[B]
    return f"{subj} {modal} {verb} {g.pick(('very', 'really', 'quite', ''))} {g.manner()}{g.opt(g.where())}."


def _preference(g: _Gen) -> str:
    subj, kind = g.person()
    a, b = g.food(g.pick(("count", "meal", "drink"))), g.food(g.pick(("count", "meal", "drink")))
    if a.split()[-1] == b.split()[-1]:
        return ""
    if g.chance(0.5):
        return f"{subj} {'prefers' if kind == 'sg' else 'prefer'} {a} to {b}."
    return f"{subj} would rather have {a} than {b} {g.pick(('for', 'after', 'with'))} {g.pick(MEAL_TIMES)}."


def _ever(g: _Gen) -> str:
    subj, kind = g.person()
    verb, obj = g.transitive()
    return f"{_have(kind).capitalize()} {subj} ever {verb[PP]} {obj}{g.opt(g.where())}?"


def _travel(g: _Gen) -> str:
    subj, _ = g.person()
    verb = g.pick(TRAVEL_VERBS)
    how = f"by {g.pick(TRANSPORT)}"
    if g.chance(0.5):
        return f"{subj} {verb[P]} to {g.pick(CITIES)} {how} {g.time('past')}."
    return f"{subj} will {verb[B]} to {g.pick(CITIES)} {how} {g.time('future')}."


def _comparative(g: _Gen) -> str:
    r = g.rng.random()
    if r < 0.4:
        _, comp, _ = g.pick(_OBJECT_COMPARATIVES)
        a, b = g.the_thing(), g.thing(adj=False)
        if a.split()[-1] == b.split()[-1]:
            return ""
        return f"{a} {g.pick(('is', 'was', 'looks', 'seems', 'feels'))} {comp} than {b}."
    if r < 0.7:
        s1, k1 = g.person()
        s2, _ = g.person(pronoun=False)
        _, comp, _ = g.pick(_PERSON_COMPARATIVES)
        if g.chance(0.5):
            return f"{s1} {_be_present(k1)} {comp} than {s2}."
        return f"{s1} {_be_past(k1)} {comp} than {s2} {g.time('past')}."
    if r < 0.85:
        return f"{g.the_thing()} is {g.pick(('more', 'less'))} {g.pick(LONG_ADJECTIVES)} than {g.thing(adj=False)}."
    subj, _ = g.person()
    if g.chance(0.5):
        sup, noun = g.pick(_FOOD_COMPARATIVES)[2], g.pick(FRUITS + VEGETABLES + SNACKS)
    else:
        sup, noun = g.pick(_OBJECT_COMPARATIVES)[2], g.pick(OBJECTS)
    return f"{subj} {g.pick(_WHICH_VERBS)[P]} the {sup} {noun} {g.where()}."


def _weather(g: _Gen) -> str:
    where = f"in {g.pick(CITIES)}" if g.chance(0.5) else g.place(with_prep=True)
    tense = g.pick(("past", "future", "present"))
    if tense == "past":
        return f"The weather {where} was {g.weather()} {g.time('past')}."
    if tense == "future":
        return f"It will be {g.weather()} {where} {g.time('future')}."
    return f"It is usually {g.weather()} {where} {g.time('habit')}."


def _there_is(g: _Gen) -> str:
    many = g.chance(0.4)
    if g.chance(0.5):
        core, adj = g.pick(ANIMALS), g.pick(ANIMAL_ADJECTIVES + COLORS)
    else:
        core, adj = g.pick(OBJECTS), (g.adjectives() or g.pick(OBJECT_ADJECTIVES))
    if many:
        np = f"{g.pick(_c('two, three, four, five, six, several, some, a few, many, no'))} {adj} {plural(core)}"
        be = g.pick(("are", "were"))
    else:
        np, be = _an(f"{adj} {core}"), g.pick(("is", "was"))
    return f"There {be} {np} {g.where()}{g.pick(('.', '!', '.'))}"


def _exclamation(g: _Gen) -> str:
    if g.chance(0.5):
        noun = g.pick(OBJECTS + ANIMALS)
        subj, _ = g.person()
        return f"What {_an(g.pick(OBJECT_ADJECTIVES + COLORS) + ' ' + noun)} {subj} {g.pick(_MAKE_VERBS)[P]}!"
    adj = g.pick(PLACE_ADJECTIVES)
    if g.chance(0.5):
        return f"How {adj} {g.place()} {g.pick(('looked', 'was', 'seemed', 'felt'))} {g.time('past')}!"
    place, looks = g.place(), g.pick(("looks", "is", "seems", "feels"))
    return f"How {adj} {place} {looks} {g.pick(_c('today, tonight, this morning, at sunset, in the rain, in winter'))}!"


def _possessive_animal(g: _Gen) -> str:
    owner = g.pick((f"{g.pick(FIRST_NAMES)}'s", g.pick(POSSESSIVES)))
    noun, kind = g.pick(ANIMALS), "sg"
    if g.chance(0.3) and plural(noun) != noun:
        noun, kind = plural(noun), "pl"
    return f"{owner} {noun} {g.pick(FREQUENCY_ADVERBS)} {_present(g.pick(ANIMAL_VERBS), kind)} {g.where()}."


# -- digits: clock times, money, years, ordinals, counts, percents, decimals --------------------


def _clock(g: _Gen) -> str:
    t = g.clock()
    r = g.rng.random()
    if r < 0.25:
        if g.chance(0.5):
            v, when = g.pick(("leaves", "will leave", "arrives", "departs", "gets in")), g.time("future")
        else:
            v, when = g.pick(("left", "arrived", "departed", "got in")), g.time("past")
        return f"The {g.pick(TRANSPORT)} to {g.pick(CITIES)} {v} at {t}{g.opt(when)}."
    if r < 0.5:
        subj, _ = g.person()
        v = g.pick(("woke up", "got up", "arrived", "left", "came home", "went to bed", "had lunch", "finished work",
                    "called", "started", "ate dinner", "fell asleep", "caught the bus"))
        return f"{subj} {v} at {t} {g.time('past')}."
    if r < 0.7:
        return (f"The {g.pick(EVENTS)} {g.pick(('starts', 'begins', 'ends', 'will start', 'will end'))} at {t} "
                f"{g.pick(('on ' + g.pick(WEEKDAYS), 'sharp', 'tonight', 'tomorrow', g.where()))}.")
    if r < 0.85:
        meet = g.pick(("Meet me", "Meet us", "Wait for me", "Call me", "Come back"))
        return f"{meet} {g.place(with_prep=True)} at {t}{g.pick(('.', ', please.', '!'))}"
    subj, kind = g.person()
    return f"What {_do(kind)} {subj} usually do at {t} on {g.pick(WEEKDAYS)}s?"


def _money_sentence(g: _Gen) -> str:
    m = g.money()
    r = g.rng.random()
    subj, kind = g.person()
    if r < 0.3:
        item = g.pick((g.thing(many=False, dets=("a", "the", "this", "that")), g.food("count")))
        return f"{subj} paid {m} for {item} {g.pick((g.where(), g.time('past')))}."
    if r < 0.55:
        many = g.chance(0.3)
        verb = g.pick(("cost", "cost" if many else "costs", "will cost", "used to cost"))
        return f"{g.the_thing(many)} {verb} {m}{g.opt(g.where())}."
    if r < 0.75:
        spent = g.pick(("earned", "spent", "saved", "found", "won", "lost", "borrowed", "raised", "owed"))
        return f"{subj} {spent} {m} {g.time('past')}."
    if r < 0.9:
        owe = g.pick(("owe", "want", "need", "have"))
        return f"{_do(kind).capitalize()} {subj} really {owe} {m} for {g.thing(many=False)}?"
    return f"Tickets for the {g.pick(EVENTS)} cost {m} {g.pick(('each', 'per person', 'for children', 'at the door'))}."


def _year_sentence(g: _Gen) -> str:
    y = g.year()
    r = g.rng.random()
    if r < 0.3:
        built = g.pick(_c("was built, was opened, was painted, was closed, was rebuilt, first opened, was sold"))
        return f"{g.place()} {built} in {y}."
    subj, _ = g.person(pronoun=g.chance(0.5))
    if r < 0.55:
        went = g.pick(("moved to", "visited", "lived in", "left", "returned to", "worked in", "studied in"))
        return f"{subj} {went} {g.pick(CITIES)} in {y}."
    if r < 0.75:
        got = g.pick(("bought", "found", "sold", "painted", "built", "inherited", "fixed"))
        return f"{subj} {got} {g.thing(many=False, dets=('the', 'a', 'this', 'that'))} in {y}."
    if r < 0.9:
        return f"{g.pick(('In', 'Back in', 'Around'))} {y}, {subj} {g.pick(INTRANSITIVE_VERBS)[P]} {g.where()}."
    event, held = g.pick(EVENTS), g.pick(("was held", "took place", "was canceled", "was first held"))
    return f"The {event} {held} in {g.pick(CITIES)} in {y}."


def _ordinal_sentence(g: _Gen) -> str:
    r = g.rng.random()
    if r < 0.3:
        subj, _ = g.person()
        came, n = g.pick(PLACE_IN_VERBS)[P], ordinal(g.rng.randint(1, 40))
        return f"{subj} {came} {n} in the {g.pick(EVENTS)} {g.time('past')}."
    if r < 0.5:
        what = g.pick(("birthday", "wedding", "party", "interview", "concert", "exam", "appointment", "flight"))
        return f"{g.pick(FIRST_NAMES)}'s {what} is on the {ordinal(g.rng.randint(1, 28))} of {g.pick(MONTHS)}."
    if r < 0.7:
        subj, kind = g.person()
        v = g.pick(("lives", "works") if kind == "sg" else ("live", "work")) if g.chance(0.5) else \
            g.pick(("lived", "worked", "waited", "stayed"))
        building = g.pick(("hotel", "tower", "hospital", "building", "library", "museum", "office block"))
        return f"{subj} {v} on the {ordinal(g.rng.randint(1, 40))} floor of the {building}."
    if r < 0.85:
        event, be = g.pick(EVENTS), g.pick(("is", "was", "will be"))
        return f"The {event} {be} on {g.pick(WEEKDAYS)}, {g.date()}{g.opt(g.year(), 0.4)}."
    subj, kind = g.person()
    n = ordinal(g.rng.randint(2, 99))
    return f"This is the {n} time {subj} {_have(kind)} {g.pick(INTRANSITIVE_VERBS)[PP]} {g.where()}."


def _count_sentence(g: _Gen) -> str:
    n = g.count()
    r = g.rng.random()
    noun = plural(g.pick(OBJECTS + ANIMALS + FRUITS + SNACKS))
    if r < 0.35:
        subj, _ = g.person()
        v = g.pick(("counted", "bought", "sold", "found", "saw", "collected", "ordered", "packed", "painted", "lost",
                    "carried", "delivered"))
        return f"{subj} {v} {n} {noun} {g.pick((g.where(), g.time('past')))}."
    if r < 0.6:
        return f"There {g.pick(('are', 'were', 'will be'))} {n} {noun} {g.where()}."
    bus = g.rng.randint(2, 199)
    if r < 0.75:
        if g.chance(0.5):
            return f"{g.pick(('Take', 'Catch'))} bus {bus} to {g.place()}{g.opt(g.time('future'))}."
        return f"{g.person()[0]} {g.pick(('took', 'caught', 'missed'))} bus {bus} to {g.place()} {g.time('past')}."
    if r < 0.9:
        subj, kind = g.person()
        if g.chance(0.5):
            return f"{subj} {'works' if kind == 'sg' else 'work'} in room {g.rng.randint(100, 999)} {g.time('habit')}."
        return f"{subj} waited in room {g.rng.randint(100, 999)} {g.time('past')}."
    book = g.pick(("book", "notebook", "workbook", "guide", "report", "manual", "cookbook", "atlas"))
    return f"Please turn to page {g.rng.randint(2, 499)} of {g.pick(('your', 'the', 'this'))} {book}."


def _percent_sentence(g: _Gen) -> str:
    p = g.rng.randint(2, 99)
    if g.chance(0.3):
        rose = g.pick(("rose", "fell", "went up", "dropped"))
        return f"The price of {plural(g.pick(FRUITS + SNACKS + OBJECTS))} {rose} by {p}% {g.time('past')}."
    group = plural(g.pick(JOBS)) if g.chance(0.6) else \
        g.pick(("children", "visitors", "voters", "customers", "guests", "passengers", "players", "families", "people"))
    verb, obj = g.transitive()
    about = g.pick(("About", "Nearly", "Only", "More than", "Almost", "Exactly"))
    return f"{about} {p}% of the {group} {verb[P]} {obj}."


def _decimal_sentence(g: _Gen) -> str:
    x = f"{g.rng.randint(1, 99)}.{g.rng.randint(1, 9)}"
    r = g.rng.random()
    if r < 0.4:
        weighs = g.pick(("weighs", "weighed", "weighs about", "weighed nearly"))
        return f"{g.the_thing()} {weighs} {x} {g.pick(('kilograms', 'pounds', 'grams', 'ounces'))}."
    if r < 0.7:
        subj, _ = g.person()
        walked, miles = g.pick(_DISTANCE_VERBS)[P], g.pick(("miles", "kilometers"))
        return f"{subj} {walked} {x} {miles} {g.destination()} {g.time('past')}."
    if r < 0.85:
        size = g.pick(("long", "tall", "wide", "from nose to tail"))
        animal, was = g.pick(ANIMALS), g.pick(("is", "was", "measured"))
        return f"The {animal} {was} {x} {g.pick(('meters', 'feet', 'inches', 'centimeters'))} {size}."
    where, reached = g.where(), g.pick(("reached", "fell to", "rose to", "stayed at"))
    return f"The temperature {where} {reached} {x} degrees {g.time('past')}."


_LENGTH_NOUNS = {  # unit: (largest number, nouns)
    "minute": (90, _w("walk drive break ride nap call talk delay")),
    "hour": (24, _w("flight drive meeting hike journey wait shift concert")),
    "day": (30, _w("trip course festival holiday visit workshop tour")),
    "week": (12, _w("vacation course trip stay holiday project camp")),
    "mile": (60, _w("hike race walk ride swim run journey drive")),
    "year": (30, _w("project contract plan lease journey study")),
}


def _hyphen_sentence(g: _Gen) -> str:
    unit = g.pick(tuple(_LENGTH_NOUNS))
    most, nouns = _LENGTH_NOUNS[unit]
    phrase = f"{g.rng.randint(2, most)}-{unit} {g.pick(nouns)}"
    r = g.rng.random()
    if r < 0.4:
        return f"It is {_an(phrase)} from {g.place()} to {g.pick((g.place(), g.pick(CITIES)))}."
    subj, _ = g.person()
    if r < 0.75:
        took = g.pick(("took", "planned", "enjoyed", "finished", "started", "booked", "needed"))
        return f"{subj} {took} {_an(phrase)} {g.time('past')}."
    return f"{subj} will {g.pick(('take', 'plan', 'start', 'book', 'need', 'enjoy'))} {_an(phrase)} {g.time('future')}."


SHAPES = (
    _past_action, _past_intransitive, _past_motion, _animal_scene, _habit, _habit_intransitive, _progressive,
    _perfect, _future, _future_motion, _did_question, _does_question, _modal_question, _wh_question,
    _who_question, _what_question, _which_question, _how_many, _be_question, _whose_question, _command,
    _put_command, _request, _offer, _lets, _suggestion, _because, _when_clause, _but_clause, _after_clause,
    _future_clause, _if_clause, _while_clause, _so_clause, _although, _reported, _ask_to, _to_infinitive,
    _passive, _ability, _preference, _ever, _travel, _comparative, _weather, _there_is, _exclamation,
    _possessive_animal, _clock, _money_sentence, _year_sentence, _ordinal_sentence, _count_sentence,
    _percent_sentence, _decimal_sentence, _hyphen_sentence,
)
"""The sentence shapes, one function each; :func:`generate_sentences` draws among them (some twice as often)."""
_DRAW = SHAPES + (_past_action, _future, _clock, _money_sentence, _year_sentence, _ordinal_sentence)


def _finish(text: str) -> str:
    """Single spaces, no space before punctuation, first letter capitalized."""
    text = " ".join(text.split())
    for mark in ".?!,":
        text = text.replace(f" {mark}", mark)
    return text[:1].upper() + text[1:]


def generate_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` unique English sentences of 5 to 16 words from the template grammar.

    Deterministic for ``(count, seed)`` and prefix-stable: ``generate_sentences(n)[:k] ==
    generate_sentences(k)``. Numbers are often digits (``7:45``, ``$12.50``, ``1987``, ``3rd``, ``45%``,
    ``2.5``, ``15-minute``) for :func:`audiogen_tf.datasets.speech.normalize_text` to expand.

    Args:
        count: how many sentences, ``0`` to :data:`MAX_SENTENCES`.
        seed: another seed gives another, equally deterministic, stream of sentences.

    Returns:
        The sentences, each capitalized and ending in ``.``, ``?`` or ``!``.

    Raises:
        ConfigError: ``count`` is not an integer, is negative or is above :data:`MAX_SENTENCES`.
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise ConfigError(f"generated sentences: count must be an integer, got {count!r}")
    if not 0 <= count <= MAX_SENTENCES:
        raise ConfigError(f"generated sentences: count must be between 0 and {MAX_SENTENCES}, got {count}")
    g = _Gen(random.Random(seed))
    out, seen = [], set()
    tries = 20 * count + 1000
    while len(out) < count:
        tries -= 1
        if tries < 0:  # a guard against an endless loop; the grammar makes far more than MAX_SENTENCES
            raise ConfigError(f"generated sentences: could not make {count} unique sentences")
        text = g.pick(_DRAW)(g)
        if not text:
            continue
        text = _finish(text)
        if MIN_WORDS <= len(text.split()) <= MAX_WORDS and text not in seen:
            seen.add(text)
            out.append(text)
    return out


_ALL_VERBS = (THING_VERBS + PASSIVE_VERBS + FOOD_VERBS + EAT_VERBS + CUT_VERBS + COOK_VERBS + DRINK_VERBS
              + PERSON_VERBS + PLACE_VERBS + ROOM_VERBS + MOTION_VERBS + TRAVEL_VERBS + INTRANSITIVE_VERBS
              + ANIMAL_VERBS + TO_VERBS + ASK_VERBS + SAY_VERBS + PLACE_IN_VERBS + _HOUSE_PART_VERBS + _WHAT_VERBS
              + _WHICH_VERBS + _OBJECT_COUNT_VERBS + _FOOD_COUNT_VERBS + _DISTANCE_VERBS + _MAKE_VERBS)


def vocabulary() -> list[str]:
    """Every distinct lowercase word of the grammar's word lists (verbs in all their forms), sorted."""
    lists = (FIRST_NAMES, SURNAMES, JOBS, RELATIVES, PLURAL_RELATIVES, PERSON_ADJECTIVES, ANIMALS,
             ANIMAL_ADJECTIVES, FRUITS, VEGETABLES, SNACKS, MEALS, PIECE_FOODS, INGREDIENTS, DRINKS,
             FOOD_ADJECTIVES, MEAL_TIMES, OBJECTS, HOUSE_PARTS, VEHICLES, TRANSPORT, OBJECT_ADJECTIVES, COLORS,
             MATERIALS, LONG_ADJECTIVES, ROOMS, CITIES, PLACE_ADJECTIVES, WEEKDAYS, MONTHS, SEASONS, DAY_PARTS,
             EVENTS, WEATHER, MANNER_ADVERBS, FREQUENCY_ADVERBS, _NUMBER_WORDS,
             tuple(p.split(":")[1] for p in PLACES), tuple(w for c in COMPARISONS for w in c),
             tuple(w for v in _ALL_VERBS for w in v), tuple(c for cs in FOOD_CONTAINERS.values() for c in cs))
    return sorted({word.lower() for entries in lists for entry in entries for word in entry.replace("-", " ").split()})
