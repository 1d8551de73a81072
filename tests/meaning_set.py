"""A labelled set where meaning matters: notes that should be related but share few
words, and notes that share words but should not be related.

Each case is (note, partner, decoy): the partner says what the note says in other
words (few words in common); the decoy shares two or three of the note's words
but is about something else (a homonym, or the same terms in another field).
The right answer for "the note most related to note" is the partner; words alone
find the decoy first. Used by tests/test_semantic.py and bench/related.py.
"""

from __future__ import annotations

from pathlib import Path

CASES: list[tuple[str, str, str]] = [
    (
        "River bank erosion. After each flood the water cuts deeper into the bank,"
        " and the willows we planted lean towards the stream.",
        "The stream overflowed again in March; its muddy shore crumbles a little more"
        " every time and slides into the current.",
        "Meeting at the bank about the mortgage. The adviser said a flood of applications"
        " slowed everything down, and the interest rate is fixed for five years.",
    ),
    (
        "My pet python shed its skin this week. Its terrarium needs more humidity and a"
        " warmer basking spot.",
        "The snake moulted on Tuesday, so I misted its glass tank to keep the air damp"
        " and raised the heat lamp. Reptiles need care.",
        "Wrote a Python script to rotate the shed server's logs and read the humidity"
        " sensor; the pet project finally runs on the Raspberry Pi.",
    ),
    (
        "The apple trees in our orchard gave a late harvest this autumn; the branches"
        " were heavy and we made cider.",
        "We picked fruit from the old trees in October, weeks after the neighbours, and"
        " pressed most of it into juice. The orchard smelled sweet.",
        "Apple announced new laptops this autumn. The reviews came late and the harvest"
        " of benchmarks says the battery is the main change.",
    ),
    (
        "Marathon training: long runs every weekend, intervals on Wednesday and new"
        " running shoes for the race in April.",
        "Preparing for the 42 kilometre event meant jogging at dawn, stretching and"
        " buying sneakers with more cushioning. Race day is close.",
        "Long running jobs on the training cluster lost the race against the deadline;"
        " the scheduler needs a new queue for batch work.",
    ),
    (
        "Mercury is the planet closest to the sun. Its orbit is the fastest and its"
        " surface swings from scorching days to freezing nights.",
        "The innermost world of our solar system circles the star in just 88 days, with"
        " no air to keep the heat in at night. The planet is small.",
        "A broken mercury thermometer is toxic. Open the window, do not vacuum, and take"
        " the beads to the pharmacy; the fastest way is a sealed jar.",
    ),
    (
        "Roasting Java coffee beans at home until they are dark and oily, then resting"
        " them two days before grinding.",
        "I brew espresso from Indonesian arabica that I cook in a pan until nearly"
        " black; the coffee is better after a short rest.",
        "Java beans and dependency injection: notes on the Spring framework, how the"
        " container wires components, and the dark corners of its configuration.",
    ),
    (
        "A mouse in the kitchen chewed through the bread bag last night; we set a"
        " humane trap by the cupboard.",
        "A small rodent keeps getting into our pantry and nibbling the loaf after dark;"
        " I put a box trap near the shelves.",
        "The wireless mouse stopped working last night and the kitchen timer app froze"
        " too; both needed new batteries and an update.",
    ),
    (
        "Common cranes migrate south over the wetlands every autumn, calling loudly as"
        " they fly in long lines.",
        "Flocks of tall grey birds pass above the marshes on their way to warmer"
        " places; their trumpeting reaches us before we see the migrating flocks.",
        "The tower crane on the building site was moved south of the plot before the"
        " autumn storms; the foundations are poured.",
    ),
    (
        "Memory consolidation happens during deep sleep: what we learn in the day is"
        " replayed and stored at night.",
        "Resting well after studying helps the brain keep what was learned; a night"
        " without sleep erases much of the day's practice.",
        "A memory leak in the sleep handler: the process never releases its buffers,"
        " so the service grows until the watchdog restarts it.",
    ),
    (
        "Bass fishing at the lake: they bite best at dawn near the reeds, on a soft plastic worm.",
        "Early in the morning I caught a large freshwater perch from the pond with a"
        " lure, just by the reeds. Fishing is calm then.",
        "My bass guitar sounded best at the lake festival; the dawn rehearsal was the"
        " only time the amplifier behaved.",
    ),
    (
        "Plant tomato seeds in spring once the soil is warm, then harden the seedlings"
        " outside for a week.",
        "Sow the vegetables in April after the last frost, when the earth has warmed"
        " up; seedlings need a week of getting used to the outdoors.",
        "The power plant replaced a spring in the safety valve; the soil near the"
        " cooling towers was warm all winter.",
    ),
    (
        "During mitosis each cell divides into two daughter cells with the same chromosomes.",
        "Organisms grow because their tiny living units split and multiply, each copy"
        " carrying the same genetic material as the parent cell.",
        "The prison cell block was divided into two wings during the renovation, and"
        " each wing has its own guard room.",
    ),
    (
        "Compound interest makes savings grow a little more each year, because the"
        " interest earns interest.",
        "Money left in a deposit account earns returns on its returns over the decades;"
        " starting early matters more than the amount saved.",
        "The chemical compound we are interested in grows crystals in the lab each"
        " year when the humidity is high.",
    ),
    (
        "The pitch of a string rises as its vibrating length gets shorter; frets are"
        " placed where the length halves an octave up.",
        "A guitar sounds higher when a fret makes the vibrating part of the wire"
        " smaller; twelve frets up the note is an octave higher.",
        "The football pitch was shorter this season and the grass rises unevenly near"
        " the goal; the club is replacing the turf.",
    ),
    (
        "Grey seal pups are born on the beach in winter; the mothers feed them for"
        " three weeks and then leave.",
        "Marine mammals haul out on the sand to give birth to their young in the cold"
        " months, and the pups are weaned quickly.",
        "Seal the envelopes with wax; the beach house invitations go out this winter"
        " for the summer party.",
    ),
    (
        "The jaguar hunts along rivers in the rainforest at night, taking caimans and capybaras.",
        "The big spotted cat of the Amazon stalks its prey near the water after"
        " sunset; it even catches crocodilians.",
        "The Jaguar sports car drove through the rainforest rally at night; its"
        " engine overheated on the river crossing.",
    ),
    (
        "A tea ceremony in Kyoto: the master whisks matcha in silence and turns the"
        " bowl before offering it.",
        "In Japan a host prepares powdered green tea with slow, quiet gestures; guests"
        " admire the bowl before drinking.",
        "The master of ceremonies asked for silence before the speeches at the"
        " wedding, then forgot the groom's name.",
    ),
    (
        "Lava flows down the volcano after an eruption, and the villages below are evacuated.",
        "Molten rock poured down the mountainside once the crater exploded; people in"
        " the valley left their homes.",
        "An eruption of applause when the chocolate volcano cake arrived at the party;"
        " the flows of sauce went everywhere.",
    ),
    (
        "A bug is eating the leaves of the roses in my garden; I will try soapy water"
        " before anything stronger.",
        "Insects are chewing holes in the foliage of my flowering shrubs, so I sprayed"
        " them with a mild soap solution.",
        "Fixed a bug in the garden planner app: the roses list showed no leaves when"
        " the season filter was on.",
    ),
    (
        "Coral reefs bleach white when the ocean gets too warm, and many never recover.",
        "Heatwaves in the sea kill the colourful polyps and leave pale reef"
        " skeletons behind; recovery takes decades.",
        "Coral and warm white are the paint colours for the ocean-themed bathroom;"
        " the tiles arrive next week.",
    ),
    (
        "The pilot light of the boiler went out and the heating stopped; the engineer"
        " replaced the thermocouple.",
        "The small flame in our gas heater died, so there was no hot water this"
        " morning until the repair man came.",
        "The airline pilot switched on the seatbelt light before the turbulence; the"
        " cabin heating failed later.",
    ),
    (
        "Solar panels on the roof produce electricity from sunlight; on a clear day"
        " we export power to the grid.",
        "Photovoltaic modules up on our house now generate power whenever it is sunny,"
        " and the meter runs backwards at noon.",
        "The conference panels on the roof terrace discussed solar policy and"
        " electricity prices for an hour.",
    ),
    (
        "The queen's gambit opening sacrifices a pawn for the centre; black can accept or decline.",
        "In that chess game, white gives up a foot soldier early to control the"
        " middle of the board.",
        "The queen opened the new centre for pawn shops in the old town and met the shopkeepers.",
    ),
    (
        "The yeast makes the bread dough rise overnight in a cool kitchen; bake it in the morning.",
        "Leave the loaf mixture to ferment until morning so that it doubles in size,"
        " then shape and bake.",
        "Bread prices rise overnight as the cost of flour climbs; bakeries raise the"
        " price of dough products first.",
    ),
    (
        "Humpback whale songs travel far under the sea; males repeat long patterns"
        " that change each year.",
        "Large ocean mammals sing melodies that carry for kilometres through the"
        " water, and the tunes evolve from season to season.",
        "A sea shanty about a whale of a night out, sung at the harbour pub with the"
        " songs of the fishermen.",
    ),
    (
        "File the tax return before the deadline, with all the receipts for deductions.",
        "Send the yearly income declaration to the revenue office on time, with proofs"
        " of spending you want to deduct.",
        "The deadline to return the rental car passed; keep the receipts for the trip"
        " in case of a dispute.",
    ),
    (
        "Caring for a parent with dementia at home: routines, patience and help from"
        " a nurse twice a week.",
        "Looking after my father, whose memory is failing, in our own house is"
        " exhausting; a nurse now visits on Tuesdays and Fridays.",
        "The parent company moved its home office to a new building, and the staff"
        " got a week to pack.",
    ),
    (
        "A vaccine trains the immune system against the virus before an infection can take hold.",
        "A jab teaches the body's defences to recognise the germ, so illness is mild"
        " or never starts.",
        "The computer virus slipped past the system's training on phishing emails, and"
        " the backups saved us.",
    ),
    (
        "The glacier melts back each summer as the climate warms; the ice has retreated"
        " a kilometre since 1900.",
        "The mountain ice field shrinks a little more every year with rising"
        " temperatures; old photos show how far it reached.",
        "The office climate warms up each summer; the cold storage archive we use is"
        " called Glacier and costs little.",
    ),
    (
        "Jet lag after a long flight east disrupts sleep for days; morning light"
        " helps the body adjust.",
        "After crossing time zones to Tokyo, my body clock was off and I could not"
        " rest; walking in the morning sun helped.",
        "The jet engine's flight test was delayed for days by a sleep-deprived crew"
        " and a missing part.",
    ),
]


def write(folder: Path) -> list[tuple[str, str, str]]:
    """The cases as notes in folder (``meaning/``): (note, partner, decoy) paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, texts in enumerate(CASES):
        paths = []
        # Names without words (m00a: note, m00b: decoy, m00c: partner), so that
        # titles neither help nor mislead either signal; a tie between the decoy
        # and the partner goes to the decoy (by path).
        for role, text in zip("acb", texts, strict=True):
            path = folder / f"m{n:02d}{role}.md"
            if not path.exists() or path.read_text() != text + "\n":
                path.write_text(text + "\n")
            paths.append(f"{folder.name}/{path.name}")
        out.append((paths[0], paths[1], paths[2]))
    return out
