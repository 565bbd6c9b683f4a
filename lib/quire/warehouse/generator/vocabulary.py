"""What the sample clients write about: topics per trade, with the months they are timely, and title patterns.

A topic is a noun phrase ("the {place} summer festival") with a kind that says how it
can be titled per content type (an event gets "Register for ...", a notice "Reminder: ...").
Seasonal topics carry the months they may be published in, counted in the client's own
hemisphere ("summer" is December in Australia); holidays of the calendar (Christmas,
Halloween, Black Friday, New Year) carry calendar months. Slots in braces are filled per
item (see :mod:`quire.warehouse.generator.titles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Kinds of topic: how a topic can be titled, and how strongly it asks the reader to act.
EVENT, ONLINE_EVENT, NOTICE, GUIDE, CAMPAIGN, STORY, NEWS = range(7)
#: Conversions per click relative to a guide: campaigns and events ask for a sign-up, notices inform.
KIND_INTENT = np.array([1.6, 1.6, 0.4, 1.0, 2.2, 0.6, 0.6])


@dataclass(frozen=True)
class Topic:
    """One thing a client writes about."""

    phrase: str
    kind: int
    months: frozenset[int] | None  # months (1-12) it is published in; None: any time
    calendar: bool = False         # months are calendar months everywhere (holidays), not the local season
    verb: str = ""                 # campaigns: the call to action ("register for")
    once: bool = False             # news a client announces once (a new store), however it is titled


def _months(spec: str) -> tuple[frozenset[int] | None, bool]:
    """'5-8' (May to August), '11-2' (wraps the year), 'c12-1' (calendar months) or '' (any time)."""
    if not spec:
        return None, False
    calendar = spec.startswith("c")
    first, last = (int(x) for x in spec.lstrip("c").split("-"))
    span = (last - first) % 12 + 1
    return frozenset((first - 1 + i) % 12 + 1 for i in range(span)), calendar


ONCE = "once"


def _topics(*rows: tuple) -> tuple[Topic, ...]:
    """Topics from compact rows: (phrase, kind[, months[, verb]][, ONCE])."""
    out = []
    for row in rows:
        once = row[-1] == ONCE
        phrase, kind, spec, verb = (*row[: len(row) - once], "", "")[:4]
        months, calendar = _months(spec)
        out.append(Topic(phrase, kind, months, calendar, verb, once))
    return tuple(out)


# -- title patterns per kind and content type --------------------------------------------------
# {t}: the topic, {T}: the same capitalised, {verb}/{Verb}: a campaign's call to action, {Month}: month of publication.
NEWSLETTERS = ("{Month} newsletter: {t} and more", "Your {Month} update: {t}", "In this issue: {t}",
               "The {Month} roundup: {t}, and more", "The {Month} {year} newsletter: {t}")

# kind -> patterns per content type, in schema.CONTENT_TYPES order (article, video, social post, newsletter,
# landing page); a kind without patterns for a type is never chosen for it.
PATTERNS: dict[int, tuple[tuple[str, ...], ...]] = {
    EVENT: (("{T}: everything you need to know", "{T}: dates, times and venue", "{T}: what to expect",
             "{T}: the full programme"),
            ("Watch: highlights from {t}", "Video: a first look at {t}"),
            ("Join us at {t}", "Photos from {t}", "One week to go until {t}", "Thank you to everyone who came to {t}",
             "This {weekday}: {t}"),
            NEWSLETTERS,
            ("Register for {t}", "Book your place at {t}", "Sign up for {t}")),
    ONLINE_EVENT: (("{T}: what we will cover", "{T}: the questions you asked"),
                   ("Recording: {t}", "Watch again: {t}"),
                   ("Join us live: {t}", "Save the date: {t}"),
                   NEWSLETTERS,
                   ("Save your seat: {t}", "Register for {t}")),
    NOTICE: (("{T}: what you need to know", "{T}: what changes and when", "Your questions about {t}, answered",
              "{T}: the {Month} update"),
             ("Video: {t}, explained", "Video update: {t}"),
             ("Reminder: {t}", "Heads-up: {t}", "A quick update on {t}", "{Month} update on {t}"),
             NEWSLETTERS,
             ("Get alerts about {t}", "Sign up for updates on {t}")),
    GUIDE: (("A guide to {t}", "Five tips for {t}", "{T}: a step-by-step guide", "{T}: common mistakes to avoid",
             "Our {year} guide to {t}"),
            ("Watch: {t} in five steps", "Video guide: {t}"),
            ("Our top tips for {t}", "New on the blog: a guide to {t}", "Three things to know about {t}",
             "Tip of the week: {t}"),
            NEWSLETTERS,
            ("Download our free guide to {t}", "Get our checklist for {t}")),
    CAMPAIGN: (("How to {verb} {t}", "{Verb} {t}: all the details"),
               ("Watch: how to {verb} {t}", "Watch: why you should {verb} {t}"),
               ("Last chance to {verb} {t}", "{Verb} {t} today", "Reminder: {verb} {t} before the end of {Month}"),
               NEWSLETTERS,
               ("{Verb} {t}", "{Verb} {t} online")),
    STORY: (("{T}",),
            ("Watch: {t}", "Video: {t}"),
            ("{T}", "From the blog: {t}"),
            NEWSLETTERS,
            ()),
    NEWS: (("Announcing {t}", "Introducing {t}", "{T}: what it means for you"),
           ("Watch: introducing {t}", "Video: a first look at {t}"),
           ("Big news: {t}", "In case you missed it: {t}"),
           NEWSLETTERS,
           ("Learn more about {t}",)),
}

# -- slot fillers ----------------------------------------------------------------------------------
STREETS = ("Elm Street", "Main Street", "Oak Avenue", "Station Road", "Mill Lane", "Church Street", "High Street",
           "Park Road", "River Road", "Queen Street", "King Street", "Harbour Road", "Market Street", "Victoria Road",
           "School Lane", "Bridge Street", "North Avenue", "Hill Road")
PARKS = ("Riverside Park", "Memorial Park", "Jubilee Park", "Mill Pond Park", "Heritage Green", "Lakeside Park",
         "Oak Hill Park", "Victoria Gardens", "Orchard Park", "Castle Green")
CUSTOMERS = ("a regional hospital", "a family-run hotel", "a local authority", "a logistics firm", "a retail chain",
             "a university library", "a group of clinics", "a law firm", "a food distributor", "a housing association",
             "a museum", "a software agency", "a school district", "a credit union", "a sports club")
PERCENTS = ("12", "15", "18", "20", "25", "30", "35", "40")
PEOPLE_FIRST = ("Ana", "Ben", "Chloe", "David", "Elena", "Farah", "George", "Hana", "Ivan", "Julia", "Kofi", "Lena",
                "Marco", "Nina", "Omar", "Paula", "Raj", "Sofia", "Tom", "Ulla", "Victor", "Wen", "Yara", "Zoe")
PEOPLE_LAST = ("Adler", "Brooks", "Chen", "Dubois", "Evans", "Fernandez", "Grant", "Holm", "Ito", "Kowalski", "Larsen",
               "Mendes", "Novak", "Owens", "Price", "Reyes", "Schmidt", "Turner", "Vidal", "Weber")

# -- topics per trade ------------------------------------------------------------------------------
EVERYONE = _topics(  # every client, whatever its trade
    ("our {Month} {year} in pictures", STORY),
    ("what our {audience} said in {Month}", STORY),
    ("thank you to our {audience}", STORY),
    ("our new website", NEWS, ONCE),
)

BUSINESS_COMMON = _topics(
    ("gift vouchers", CAMPAIGN, "c11-12", "buy"),
    ("our loyalty programme", CAMPAIGN, "", "join"),
    ("our {year} customer survey", CAMPAIGN, "", "take part in"),
    ("{n} years in business", STORY, ONCE),
    ("our charity partner for {year}", NEWS),
    ("the local suppliers we work with", STORY),
    ("our sustainability pledge", NEWS, ONCE),
)

MUNICIPALITY = _topics(
    ("the {place} summer festival", EVENT, "5-8"),
    ("outdoor pool opening hours", NOTICE, "5-8"),
    ("summer camp {year}", CAMPAIGN, "3-6", "register for"),
    ("the summer reading challenge", CAMPAIGN, "6-8", "sign up for"),
    ("cooling centres during the heat wave", NOTICE, "6-8"),
    ("the farmers' market", EVENT, "5-9"),
    ("the spring clean-up", EVENT, "3-5"),
    ("street sweeping", NOTICE, "3-5"),
    ("leaf collection", NOTICE, "9-11"),
    ("the snow clearing plan", NOTICE, "11-2"),
    ("winter parking rules", NOTICE, "11-2"),
    ("the {budget_year} budget", NOTICE, "10-3"),
    ("the budget town hall", EVENT, "10-2"),
    ("the holiday lights parade", EVENT, "c11-12"),
    ("holiday waste collection days", NOTICE, "c12-1"),
    ("the New Year's Eve fireworks", EVENT, "c12-12"),
    ("road works on {street}", NOTICE),
    ("the new recycling schedule", NOTICE),
    ("library opening hours", NOTICE),
    ("the {park} renovation", NOTICE),
    ("new parking permits", NOTICE),
    ("the community grants programme", CAMPAIGN, "", "apply to"),
    ("the consultation on {park}", CAMPAIGN, "", "have your say in"),
    ("emergency alerts", CAMPAIGN, "", "sign up for"),
    ("paying your water bill online", GUIDE),
    ("reporting a pothole", GUIDE),
    ("meet {person}, our new parks manager", STORY, ONCE),
    ("meet {person}, our new city planner", STORY, ONCE),
    ("a day with the road maintenance crew", STORY),
    ("how {place} cut landfill waste by {pct}%", STORY),
    ("the new {place} community centre", NEWS, ONCE),
    ("the {place} {year} annual report", STORY),
)

BUSINESS = {
    "dental": _topics(
        ("teeth whitening", CAMPAIGN, "", "book"),
        ("a new-patient check-up", CAMPAIGN, "", "book"),
        ("a clear aligner consultation", CAMPAIGN, "", "book"),
        ("children's check-ups before the school year", NOTICE, "7-9"),
        ("sports mouthguards for the new season", CAMPAIGN, "8-9", "order"),
        ("holiday opening hours", NOTICE, "c12-12"),
        ("caring for teeth after Halloween", GUIDE, "c10-11"),
        ("choosing the right toothbrush", GUIDE),
        ("caring for sensitive teeth", GUIDE),
        ("handling a dental emergency", GUIDE),
        ("meet {person}, our new hygienist", STORY, ONCE),
        ("why patients in {place} choose us", STORY),
        ("our new treatment room", NEWS, ONCE),
        ("evening appointments", NEWS, ONCE),
        ("our dental plan", CAMPAIGN, "", "join"),
        ("flossing properly", GUIDE),
        ("dealing with bad breath", GUIDE),
        ("preparing for your child's first dental visit", GUIDE),
    ),
    "builders": _topics(
        ("planning a spring renovation", GUIDE, "1-4"),
        ("preparing your home for winter", GUIDE, "9-11"),
        ("garden rooms", GUIDE, "3-7"),
        ("the {place} home show", EVENT, "3-4"),
        ("a free home renovation survey", CAMPAIGN, "", "book"),
        ("energy-efficient windows", GUIDE),
        ("loft conversions", GUIDE),
        ("getting planning permission", GUIDE),
        ("our latest kitchen extension in {place}", STORY),
        ("how we rebuilt a Victorian terrace on {street}", STORY),
        ("meet {person}, our new site manager", STORY, ONCE),
        ("our apprenticeship programme", CAMPAIGN, "", "apply to"),
        ("our new showroom", NEWS, ONCE),
    ),
    "realty": _topics(
        ("the {place} housing market in {Month}", STORY),
        ("buying your first home", GUIDE),
        ("selling in the spring market", GUIDE, "1-4"),
        ("open houses this weekend", NOTICE),
        ("a free home valuation", CAMPAIGN, "", "book"),
        ("renting out your property", GUIDE),
        ("mortgage rates this {season}", STORY),
        ("moving house with children", GUIDE),
        ("how we sold a {house} on {street} in {n} days", STORY),
        ("the best streets in {place} for families", STORY),
        ("our new lettings team", NEWS, ONCE),
        ("a {house} on {street}, just listed", STORY),
    ),
    "logistics": _topics(
        ("holiday shipping deadlines", NOTICE, "c10-12"),
        ("peak season capacity", NOTICE, "c9-11"),
        ("Black Friday deliveries", NOTICE, "c10-11"),
        ("packing fragile goods", GUIDE),
        ("cutting your shipping costs", GUIDE),
        ("a same-day delivery quote", CAMPAIGN, "", "request"),
        ("our new warehouse in {place}", NEWS, ONCE),
        ("our electric delivery fleet", NEWS, ONCE),
        ("how {customer} cut delivery times by {pct}%", STORY),
        ("a night shift at our {place} depot", STORY),
        ("driver jobs", CAMPAIGN, "", "apply for"),
        ("filling in customs paperwork", GUIDE),
    ),
    "outfitters": _topics(
        ("the spring collection", NEWS, "2-4"),
        ("the summer sale", CAMPAIGN, "6-8", "shop"),
        ("choosing summer hiking gear", GUIDE, "5-7"),
        ("packing for a summer camping trip", GUIDE, "5-8"),
        ("the autumn collection", NEWS, "8-10"),
        ("layering for winter walks", GUIDE, "10-1"),
        ("the winter sale", CAMPAIGN, "12-2", "shop"),
        ("Black Friday deals", CAMPAIGN, "c11-11", "shop"),
        ("choosing gifts for hikers", GUIDE, "c11-12"),
        ("choosing walking boots", GUIDE),
        ("our repair service", CAMPAIGN, "", "book"),
        ("the guided trail walk near {place}", EVENT),
        ("meet {person}, our trail guide", STORY, ONCE),
        ("our new store in {place}", NEWS, ONCE),
        ("caring for waterproof jackets", GUIDE),
        ("fitting a backpack", GUIDE),
        ("the {place} trail running club", EVENT),
        ("the {weekday} gear swap", EVENT),
        ("rental kit", CAMPAIGN, "", "book"),
        ("our staff picks for {Month}", STORY),
    ),
    "bakery": _topics(
        ("hot cross buns", CAMPAIGN, "c3-4", "order"),
        ("the summer menu", NEWS, "5-7"),
        ("our pumpkin bread", NEWS, "9-10"),
        ("Christmas orders", CAMPAIGN, "c11-12", "place"),
        ("Christmas opening hours", NOTICE, "c12-12"),
        ("wedding cakes", CAMPAIGN, "", "order"),
        ("birthday cakes", CAMPAIGN, "", "order"),
        ("the sourdough workshop", EVENT),
        ("keeping bread fresh", GUIDE),
        ("our new sourdough loaf", NEWS, ONCE),
        ("a 4 a.m. shift with our bakers", STORY),
        ("meet {person}, our head baker", STORY, ONCE),
        ("our new café in {place}", NEWS, ONCE),
        ("our gluten-free range", NEWS, ONCE),
        ("afternoon tea for two", CAMPAIGN, "", "book"),
        ("{bread}, our bread of the month", STORY),
        ("baking with children", GUIDE),
        ("a place at our bakery school", CAMPAIGN, "", "book"),
    ),
    "firm": _topics(
        ("year-end tax planning", GUIDE, "c10-12"),
        ("the new tax year", NOTICE, "c1-4"),
        ("updating your will", GUIDE),
        ("buying a business", GUIDE),
        ("employment contracts", GUIDE),
        ("a free first consultation", CAMPAIGN, "", "book"),
        ("our breakfast briefing on {briefing}", EVENT),
        ("our webinar on {briefing}", ONLINE_EVENT),
        ("new rules on {briefing}", NOTICE),
        ("meet {person}, our new partner", STORY, ONCE),
        ("how we helped {customer} through a merger", STORY),
        ("our new office", NEWS, ONCE),
    ),
    "manufacturing": _topics(
        ("the {year} trade show", EVENT, "2-4"),
        ("our factory open day", EVENT, "5-9"),
        ("the summer maintenance shutdown", NOTICE, "6-8"),
        ("year-end order deadlines", NOTICE, "c11-12"),
        ("our new production line", NEWS, ONCE),
        ("a custom parts quote", CAMPAIGN, "", "request"),
        ("our apprenticeship programme", CAMPAIGN, "", "apply to"),
        ("reducing scrap on the shop floor", GUIDE),
        ("choosing the right alloy", GUIDE),
        ("{n} years without a lost-time accident", STORY),
        ("how {customer} cut lead times by {pct}%", STORY),
        ("meet {person}, our new quality manager", STORY, ONCE),
    ),
}

STARTUP = _topics(
    ("the {product} public beta", CAMPAIGN, "", "join"),
    ("a {product} demo", CAMPAIGN, "", "book"),
    ("a free {product} trial", CAMPAIGN, "", "start"),
    ("what's new in {product} this {Month}", STORY),
    ("the {product} roadmap for {quarter}", NEWS),
    ("our {funding} round", NEWS, ONCE),
    ("the {product} integration with {tool}", NEWS),
    ("getting started with {product}", GUIDE),
    ("automating reports with {product}", GUIDE),
    ("our webinar on {webinar}", ONLINE_EVENT),
    ("the {Month} product webinar", ONLINE_EVENT),
    ("how {customer} saves {n} hours a week", STORY),
    ("how {customer} cut costs by {pct}%", STORY),
    ("meet {person}, our new head of product", STORY, ONCE),
    ("our engineering team", CAMPAIGN, "", "join"),
    ("scheduled maintenance", NOTICE),
    ("our new pricing", NOTICE, ONCE),
    ("our {year} in review", STORY, "c12-12"),
    ("the {year} product summit", EVENT, "9-11"),
)

NONPROFIT_COMMON = _topics(
    ("the annual appeal", CAMPAIGN, "c10-12", "give to"),
    ("Giving Tuesday", CAMPAIGN, "c11-12", "give on"),
    ("our {prev_year} impact report", STORY, "c1-4"),
    ("the volunteer drive", CAMPAIGN, "", "sign up for"),
    ("the board elections", NOTICE, "3-5"),
    ("monthly giving", CAMPAIGN, "", "start"),
    ("meet {person}, one of our volunteers", STORY),
    ("our new partnership with {customer}", NEWS),
    ("{someone}, our volunteer of the month for {Month}", STORY),
    ("fundraising at work", GUIDE),
    ("a gift in your will", CAMPAIGN, "", "leave"),
    ("a corporate volunteering day", CAMPAIGN, "", "book"),
    ("the {year} charity run", EVENT, "4-9"),
)

NONPROFIT = {
    "food_bank": _topics(
        ("the summer food drive", EVENT, "5-8"),
        ("holiday food hampers", CAMPAIGN, "c11-12", "donate to"),
        ("summer lunches for children", NOTICE, "6-8"),
        ("donating food", GUIDE),
        ("our new distribution centre", NEWS, ONCE),
        ("a morning at the {place} food bank", STORY),
        ("what we need most this {Month}", STORY),
        ("getting a food bank referral", GUIDE),
        ("the school uniform swap", EVENT, "7-9"),
        ("supermarket collection days", EVENT),
        ("a warehouse volunteering shift", CAMPAIGN, "", "book"),
    ),
    "foundation": _topics(
        ("the community grants round", CAMPAIGN, "", "apply to"),
        ("the {year} grant recipients", STORY),
        ("leaving a gift in your will", GUIDE),
        ("the {place} giving day", EVENT, "9-11"),
        ("how {place} grants helped {n}0 families", STORY),
    ),
    "library": _topics(
        ("the summer reading challenge", CAMPAIGN, "6-8", "sign up for"),
        ("the spring book sale", EVENT, "3-5"),
        ("the autumn book sale", EVENT, "9-11"),
        ("story time for toddlers", EVENT),
        ("our author talk with {person}", EVENT, ONCE),
        ("a library card", CAMPAIGN, "", "apply for"),
        ("our new reading garden", NEWS, ONCE),
        ("new books this {Month}", STORY),
        ("the {weekday} book club", EVENT),
    ),
    "arts": _topics(
        ("the summer arts festival", EVENT, "5-8"),
        ("the open studios weekend", EVENT, "9-10"),
        ("the winter exhibition", EVENT, "11-1"),
        ("artist grants", CAMPAIGN, "", "apply for"),
        ("the life drawing class", EVENT),
        ("meet {person}, our artist in residence", STORY, ONCE),
    ),
    "youth_sports": _topics(
        ("the spring season", CAMPAIGN, "1-3", "register for"),
        ("the autumn season", CAMPAIGN, "7-8", "register for"),
        ("summer tryouts", EVENT, "5-7"),
        ("the end-of-season awards", EVENT, "11-12"),
        ("coaching badges", CAMPAIGN, "", "apply for"),
        ("concussion safety", GUIDE),
        ("our under-{age} team's season", STORY),
    ),
    "history": _topics(
        ("the heritage walk", EVENT, "4-9"),
        ("our winter lecture series", EVENT, "11-2"),
        ("the {place} archive online", NEWS, ONCE),
        ("researching your family history", GUIDE),
        ("the story of {street}", STORY),
        ("a lecture on {place} in the {decade}s", EVENT),
    ),
    "animal_rescue": _topics(
        ("the adoption day", EVENT),
        ("fostering a rescue dog", GUIDE),
        ("kitten season", NOTICE, "4-7"),
        ("keeping pets safe on hot days", GUIDE, "6-8"),
        ("keeping pets calm during fireworks", GUIDE, "c10-12"),
        ("a kennel", CAMPAIGN, "", "sponsor"),
        ("how {pet} found a home", STORY),
        ("{pet} is looking for a home", STORY),
        ("a dog walking shift", CAMPAIGN, "", "book"),
        ("microchipping your pet", GUIDE),
    ),
    "literacy": _topics(
        ("volunteer tutor training", CAMPAIGN, "", "sign up for"),
        ("the summer reading camp", CAMPAIGN, "4-7", "register for"),
        ("the book drive", EVENT, "9-11"),
        ("reading with your child", GUIDE),
        ("how {person} learned to read at {adult_age}", STORY, ONCE),
    ),
}

FUNDING = ("seed", "Series A", "Series B")
TOOLS = ("Slack", "Salesforce", "HubSpot", "Google Sheets", "Microsoft Teams", "Shopify", "Zapier")
WEBINARS = ("data privacy", "onboarding new customers", "forecasting demand", "reporting to your board",
            "automating invoices", "choosing a CRM")
BRIEFINGS = ("employment law", "data protection", "VAT", "commercial leases", "inheritance tax",
             "flexible working")
PETS = ("Biscuit", "Luna", "Max", "Pepper", "Milo", "Rosie", "Shadow", "Juniper")
HOUSES = ("family home", "two-bed flat", "cottage", "townhouse", "bungalow", "period semi")
BREADS = ("rye", "spelt", "focaccia", "brioche", "seeded batch", "cinnamon swirl", "olive loaf")
WEEKDAYS = ("Thursday", "Friday", "Saturday", "Sunday")
