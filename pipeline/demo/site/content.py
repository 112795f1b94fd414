"""The demo site's invented articles: every name, place and quote here is made up.

Each article's body carries one rare word (`rare_word`) that appears nowhere else on the
site -- not in any headline, description, other article or page chrome -- so a test can
search for it and expect exactly that article back. The texts live in Python rather than
data files so they ship with the package without any package-data configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

SITE_NAME = "The Wendlemoor Courier"


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    description: str  # standfirst; also the feed item's <description>
    author: str
    section: str
    published: datetime  # timezone-aware UTC
    body: tuple[str, ...]  # paragraphs
    rare_word: str | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"/news/{self.published:%Y/%m}/{self.slug}.html"

    @property
    def body_text(self) -> str:
        return "\n\n".join(self.body)


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


ARTICLES: tuple[Article, ...] = (
    Article(
        slug="marrowby-council-votes-for-eastern-tram-line",
        title="Marrowby council votes 27 to 19 for eastern tram line",
        description=(
            "After a session lasting nine hours, councillors back a £410m line linking "
            "Saltergate to the Brindle Hill estate, with building due to start in 2028."
        ),
        author="Hester Quayle",
        section="City",
        published=_utc(2, 9, 30),
        rare_word="catenary",
        tags=("transport", "council"),
        body=(
            "Marrowby's city council voted 27 to 19 on Tuesday night to build an eastern tram line, ending a dispute that has dominated local politics for the better part of six years. The decision came shortly before two in the morning, after a session that began at five the previous afternoon and included more than forty speeches from the public gallery.",
            "The approved route runs 11 kilometres from the Saltergate interchange to the Brindle Hill estate, with fourteen stops along the way, including a new stop outside Wendlemoor General Hospital. Officials put the cost at £410 million, of which roughly two thirds is expected to come from a regional transport grant that the city applied for last spring.",
            "Councillor Maud Ferrant, who chairs the transport committee, told the chamber that the eastern districts had waited long enough. \"People in Brindle Hill spend fifty minutes on two buses to reach jobs that are six kilometres away,\" she said. \"Tonight we stop asking them to be patient.\"",
            "Opponents focused less on the principle than on the disruption. Traders on Cobbler's Row, where the line will run down the middle of the street, warned that two years of roadworks could finish off shops already struggling after the closure of the covered market. Councillor Bram Eddowes, who led the opposition, argued that an electric bus corridor could deliver most of the benefit for a quarter of the price.",
            "Much of the late-night debate turned on the overhead catenary that will carry power to the trams. Residents of the conservation area around Tallow Square had objected to poles and wires in front of its listed Georgian terraces. In a late amendment, the council agreed to run that section on battery power, with the trams lowering their pantographs before the square and raising them again on the far side.",
            "The city's transport director, Idris Calloway, said detailed design work would take around eighteen months, with construction due to start in early 2028 and the first passengers carried in 2031. He promised a dedicated fund to compensate businesses on the route, though its size has not yet been set.",
            "Outside the town hall, a small group of supporters who had stayed through the night greeted the result with applause and a flask of tea. \"I've been coming to these meetings since my daughter was in primary school,\" said Gwen Arbuthnot, a retired bus driver from Brindle Hill. \"She's at university now. I'll still be glad to ride it.\"",
        ),
    ),
    Article(
        slug="summer-heatwave-pushed-river-tessel-to-record-temperatures",
        title="Summer heatwave pushed River Tessel to record temperatures, report finds",
        description=(
            "The Wendlemoor Rivers Trust says the river's trout may take a decade to "
            "recover and calls for an old mill weir to be removed."
        ),
        author="Oliver Brandt",
        section="Environment",
        published=_utc(5, 7, 15),
        rare_word="thermocline",
        tags=("rivers", "climate"),
        body=(
            "The River Tessel reached its highest water temperatures on record during the July heatwave, according to a report published on Thursday by the Wendlemoor Rivers Trust, which warns that the river's trout population may take a decade to recover.",
            "Sensors at the Fallowmead gauging station recorded water at 27.4 degrees Celsius on the afternoon of 19 July, almost four degrees above the previous high set in 2018. For eleven consecutive days the river stayed above 24 degrees, a level at which brown trout struggle to take in enough oxygen.",
            "Dr Nia Osterberg, the hydrologist who led the study, said the heat was only part of the story. Upstream of the Fallowmead weir, the river slows and deepens into a long pool that, in an ordinary summer, stays cool near the bottom. \"This year the thermocline broke down completely,\" she said. \"Warm water mixed all the way to the bed, and the fish had nowhere to retreat to.\"",
            "Volunteers moved more than 3,000 fish by hand during the worst week, netting them from shrinking pools and carrying them in aerated tanks to cooler tributaries in the hills above Coldharbour Bridge. One volunteer, a schoolteacher named Arlo Penhaligon, described driving the same twelve miles of lane eighteen times in a single day.",
            "The report makes six recommendations. The most expensive is the removal of the Fallowmead weir, built in the 1840s to power a corn mill that closed before the First World War. The trust also wants farmers to plant trees along a forty-kilometre stretch of the upper river, where shade could lower summer water temperatures by two or three degrees.",
            "The weir's owners, the Fallowmead Estate, said they were open to discussions but pointed out that the structure is listed and that the mill pond above it supports a colony of kingfishers. A spokesperson for the county's environment department said funding for river restoration would be considered in the budget round in February.",
            "Dr Osterberg said the river could recover if action came quickly. \"Rivers are resilient,\" she said. \"But they need cold water to be resilient with.\"",
        ),
    ),
    Article(
        slug="ashcombe-rovers-beat-dunmere-on-penalties-in-cup-final",
        title="Ashcombe Rovers beat Dunmere Athletic on penalties to lift the Wendlemoor Cup",
        description=(
            "A teenage winger's audacious equaliser turns a final that the holders "
            "had controlled for an hour, and Rovers end a 31-year wait."
        ),
        author="Priya Kesting",
        section="Sport",
        published=_utc(8, 21, 45),
        rare_word="rabona",
        tags=("football",),
        body=(
            "Ashcombe Rovers won the Wendlemoor Cup for the first time in 31 years on Sunday, beating Dunmere Athletic 5-4 on penalties after a 2-2 draw in front of a sell-out crowd of 9,200 at the Kilnworth Stadium.",
            "Dunmere, the holders, looked in control for most of the first hour. Their captain, Sefton Obi, headed them in front from a corner after eleven minutes, and the midfielder Lars Whitmore doubled the lead just before half-time with a low shot that skidded under the goalkeeper's body on the wet surface.",
            "The turning point came in the 64th minute. Ashcombe's teenage winger, Joss Mbeki-Rowe, collected the ball near the corner flag, shaped to cross with his left foot and instead wrapped his right foot behind his standing leg in a rabona that curled over the goalkeeper and in at the far post. The away end, which had been quiet for most of the afternoon, did not stop singing until the final whistle.",
            "Rovers equalised nine minutes later when the substitute Dario Fenwick turned in a rebound after a shot from distance was parried. Both sides had chances to win it in extra time, the clearest falling to Obi, whose header struck the crossbar in the 112th minute.",
            "The shootout went to the fifth round. After eight successful kicks, the Ashcombe goalkeeper Tomasz Reilly dived to his left to keep out a firm penalty from Whitmore, and the Rovers captain, Ellis Grainger, stepped up to send Dunmere's keeper the wrong way.",
            "Ashcombe's manager, Pietro Haldane, who took charge in the summer after eight years coaching the club's youth sides, said he had told Mbeki-Rowe to keep trying things. \"He's eighteen. If I shout at him every time he takes a risk, he stops taking risks, and then he's just another winger,\" Haldane said. \"Today the risk paid for the trophy.\"",
            "Dunmere's manager, Carys Lydgate, congratulated the winners and said her side would learn from the defeat. The two clubs meet again in the league in three weeks' time.",
        ),
    ),
    Article(
        slug="restored-fifteenth-century-herbal-goes-on-display",
        title="Restored fifteenth-century herbal goes on display at Oakhythe Library",
        description=(
            "Four years of conservation work on a book found in a farmhouse clearance "
            "have revealed a second, older text hidden beneath the first."
        ),
        author="Samuel Otway",
        section="Culture",
        published=_utc(12, 10, 0),
        rare_word="palimpsest",
        tags=("libraries", "history"),
        body=(
            "A fifteenth-century herbal that spent much of the last century in a biscuit tin has gone on public display at the Oakhythe Library after a restoration that took almost four years and, according to its conservator, revealed a second book hidden underneath the first.",
            "The manuscript, a 96-page guide to medicinal plants written in Latin with notes in an English hand, was found in 1958 during the clearance of a farmhouse near Hollins Edge. It was given to the library by the farmer's widow, catalogued, and then largely forgotten until a volunteer rediscovered it in 2022 while checking shelf lists in the basement store.",
            "Ravi Lindqvist, the conservator who led the project, said the pages were in poor condition. \"Damp had got in at some point, probably in the farmhouse, and the parchment had cockled badly,\" he said. \"Several leaves were stuck together with what we think was a mixture of mould and candle wax.\"",
            "Separating those leaves took eleven months. It was while photographing them under ultraviolet light that the team noticed faint lines of older writing running at right angles to the herbal's text. The manuscript, it turned out, is a palimpsest: its scribe had scraped clean an earlier book, probably a collection of sermons, and reused the parchment.",
            "Researchers at Wendlemoor University have so far read around two hundred lines of the underlying text with the help of multispectral imaging. Dr Helena Voss, who is leading that work, said it was too early to identify the sermons' author but that the handwriting suggested they were copied around a century before the herbal itself.",
            "The library's head of collections, Agnes Thorold, said the restoration had been paid for almost entirely by small gifts from the public, including more than £6,000 raised by a sponsored reading marathon in which 140 people took turns to read aloud for three days and nights.",
            "The herbal can be seen in the library's Reading Room gallery until the end of March. A digital copy of every page, including the images of the hidden text, will be published online in the new year.",
        ),
    ),
    Article(
        slug="voltwren-recalls-home-battery-packs-after-overheating",
        title="Voltwren recalls 14,000 home battery packs after overheating reports",
        description=(
            "The Marrowby start-up traces two fires to a faulty batch of cells and says "
            "it will replace every affected unit free of charge."
        ),
        author="Lena Marsh",
        section="Business",
        published=_utc(16, 14, 20),
        rare_word="dendrite",
        tags=("energy", "recalls"),
        body=(
            "Voltwren Energy, the Marrowby start-up that makes wall-mounted batteries for homes with solar panels, is recalling about 14,000 units after receiving reports of 23 packs overheating, two of which caught fire.",
            "The recall covers the company's Hearth 10 model sold between March and August this year. Nobody was injured in either fire, one of which damaged a garage in the village of Little Sarne and the other the utility room of a house in Coldharbour. Voltwren said owners should switch their units off at the isolator and wait to be contacted to arrange a replacement.",
            "In a statement, the company said an investigation had traced the fault to a batch of cells from a single supplier. Under repeated fast charging, it said, a metallic dendrite could grow from one electrode through the separator, eventually creating a short circuit inside the cell. Packs assembled with cells from other suppliers were not affected, but Voltwren is replacing every Hearth 10 as a precaution because it cannot say with certainty which units contain the faulty batch.",
            "Tamsin Okoro, Voltwren's chief executive and co-founder, apologised to customers in a video posted on the company's website. \"We built this company on the promise that clean energy at home should be safe and simple,\" she said. \"We fell short of that, and we are going to put it right, whatever it costs.\"",
            "The cost could be considerable. Analysts at the Marrowby brokerage Fenner Gault estimated that replacing the units and compensating installers could cost between £18 million and £25 million, a large sum for a company that raised £40 million from investors last year and has not yet made a profit.",
            "Voltwren employs around 260 people, most of them at its assembly plant on the former Saltergate goods yard. The company said it had enough cash to cover the recall and that no jobs were at risk.",
            "The national product safety regulator confirmed it was monitoring the recall. Owners can check whether their unit is affected using the serial number printed on the underside of the pack.",
        ),
    ),
    Article(
        slug="port-callow-harbour-festival-draws-record-crowds",
        title="Port Callow's harbour festival draws record crowds to the quayside",
        description=(
            "A lantern parade, a fleet of old sailing boats and a very long queue for "
            "fish suppers mark the festival's return after a two-year break."
        ),
        author="Farid Castell",
        section="Culture",
        published=_utc(20, 8, 0),
        rare_word="gansey",
        tags=("festivals", "coast"),
        body=(
            "More than 40,000 people crowded onto Port Callow's quayside over the weekend for the town's harbour festival, which returned after a two-year break with a lantern parade, a fleet of restored sailing boats and what organisers described as the longest fish supper queue in the town's history.",
            "The festival began in 1974 as a single afternoon to mark the reopening of the harbour after storm damage. It grew into a three-day event before being suspended in 2024, when repairs to the north breakwater closed much of the quayside. This year's edition was the first held in November, a move organisers said was intended to fill hotels outside the summer season.",
            "The highlight for many was Saturday's lantern parade, in which about 600 children carried paper boats lit from within along the harbour wall to the lifeboat station. The lanterns were made at workshops in local schools over the previous month.",
            "On the water, eighteen wooden fishing boats, some more than a century old, sailed in procession past the lighthouse. Their crews wore the traditional knitted gansey, each pattern once particular to a family or village, and a display in the harbour master's office showed how knitters in the town had kept the patterns alive by copying them from old photographs.",
            "The festival director, Caspar Wynne, said the weekend had been a test of whether the town could stage a large event in the colder months. \"We had rain on Friday, wind on Saturday and sunshine on Sunday, which is about as much of a Port Callow November as you can fit into three days,\" he said. \"People came anyway.\"",
            "Local businesses reported strong trade. Morwenna Pascoe, who runs a cafe overlooking the inner harbour, said she had served more customers on Saturday than on any day since she opened eight years ago. \"We ran out of bread at two o'clock and had to send my brother to the next town for more,\" she said.",
            "The town council will decide in January whether to make the November date permanent. Organisers have already said they would like to add a fourth day.",
        ),
    ),
)

# Held back from the feed until a test calls DemoSite.publish_next(): simulates a new entry.
RESERVE: tuple[Article, ...] = (
    Article(
        slug="tessel-estuary-ferry-adds-late-night-crossing",
        title="Tessel estuary ferry adds a late-night crossing from December",
        description=(
            "Shift workers and students who petitioned for a later boat between Port "
            "Callow and Gillyford get their wish, for six months at least."
        ),
        author="Hester Quayle",
        section="City",
        published=_utc(21, 7, 30),
        rare_word="capstan",
        tags=("transport",),
        body=(
            "The ferry across the Tessel estuary between Port Callow and Gillyford will run a late-night crossing from the first week of December, its operator announced on Monday, after a petition signed by more than 2,000 shift workers and students.",
            "The new sailing will leave Port Callow at 23:40 and return from Gillyford at midnight, seven days a week. Until now the last boat has left at 21:15, leaving passengers who miss it with a 38-kilometre journey by road around the head of the estuary.",
            "The operator, Estuary Crossings Ltd, said the extra service was possible because of a new crew rota agreed with staff over the summer. Its managing director, Ottilie Brennan, said the company would review passenger numbers after six months. \"If people use it, it stays,\" she said.",
            "The ferry, the Maid of Gillyford, is a 1962 chain vessel that hauls itself across the water along cables laid on the riverbed. Its engineer, Dennis Quarrie, who has worked on the boat for 27 years, said the old steam capstan that once wound the chains still sits in the engine room, painted and polished, although it has not turned since the vessel was converted to diesel in the 1980s.",
            "Among the petition's organisers was Keziah Mould, a nurse at Wendlemoor General Hospital who lives in Gillyford. She said she had often slept in her car after late shifts rather than drive around the estuary. \"One extra boat sounds small,\" she said. \"For some of us it is an hour of sleep a night.\"",
            "Fares will be unchanged, and season tickets will be valid on the new sailing.",
        ),
    ),
)
