"""A small built-in phrase bank and template grammar for synthetic conversation scripts.

Nothing is downloaded: sentences are drawn from templates whose slots are filled from
short word lists, which gives tens of thousands of distinct sentences. The words are
plain English that eSpeak NG pronounces well.
"""

from __future__ import annotations

import re

import numpy as np

SLOTS: dict[str, tuple[str, ...]] = {
    "place": ("the market", "the beach", "the old library", "my cousin's house", "the mountains", "the city centre",
              "a small cafe", "the museum", "the lake", "the new gym", "the train station", "the park",
              "a concert", "the office", "the garden centre", "the airport", "a tiny village", "the bakery"),
    "when": ("yesterday", "last weekend", "on Monday", "this morning", "a few days ago", "last summer",
             "over the holidays", "last night", "two weeks ago", "on Friday evening", "earlier today"),
    "person": ("my sister", "my brother", "a friend of mine", "my neighbour", "my boss", "my dad", "my mum",
               "an old colleague", "my flatmate", "my grandmother", "a guy from work", "my best friend"),
    "thing": ("the new phone", "that film", "the weather", "the football match", "the book you lent me",
              "the food there", "the traffic", "the music", "the new project", "the price of coffee",
              "the garden", "the train timetable", "that podcast", "the exhibition", "the meeting"),
    "adj": ("amazing", "really strange", "pretty good", "terrible", "surprisingly nice", "quite boring",
            "wonderful", "a bit expensive", "so funny", "very relaxing", "exhausting", "lovely", "weird"),
    "verb_past": ("visited", "walked to", "drove to", "went to", "stopped by", "ended up at", "looked around",
                  "spent the day at", "had lunch at", "got lost near"),
    "activity": ("cooking", "running", "painting", "reading", "hiking", "gardening", "swimming", "cycling",
                 "playing the piano", "learning Spanish", "baking bread", "watching old films"),
    "feeling": ("happy", "tired", "excited", "nervous", "relieved", "a little confused", "really glad",
                "surprised", "calm"),
    "amount": ("two hours", "half an hour", "all afternoon", "ten minutes", "the whole day", "about an hour"),
}

STATEMENTS: tuple[str, ...] = (
    "I {verb_past} {place} {when}.",
    "{when}, {person} and I {verb_past} {place}.",
    "Honestly, I thought {thing} was {adj}.",
    "You know, {person} said {thing} was {adj}.",
    "I have been {activity} a lot lately, and it feels {adj}.",
    "We waited for {amount} at {place}, which was {adj}.",
    "I was {feeling} when I heard about {thing}.",
    "The best part was {thing}, it was {adj}.",
    "So {person} called me {when}, and we talked for {amount}.",
    "I think I will try {activity} again next week.",
    "It took {amount} just to get to {place}.",
    "Anyway, {thing} turned out to be {adj}.",
    "I felt {feeling} after that, to be honest.",
    "Then we {verb_past} {place} and had a coffee.",
    "My plan is to spend more time {activity} this year.",
    "Apparently {thing} is going to change soon.",
    "Well, {person} thinks I should start {activity}.",
    "The funny thing is, {place} was completely empty.",
)

QUESTIONS: tuple[str, ...] = (
    "Have you ever been to {place}?",
    "What did you think of {thing}?",
    "Did you do anything fun {when}?",
    "Do you still like {activity}?",
    "How was {place}?",
    "Were you {feeling} about it?",
    "Have you talked to {person} {when}?",
    "Why do you think {thing} was so {adj}?",
    "Would you go back to {place}?",
    "What are you doing this weekend?",
    "Is that not a bit {adj}?",
)

REACTIONS: tuple[str, ...] = (
    "Oh, really?", "That sounds {adj}.", "No way!", "I know what you mean.", "Wow, that is {adj}.",
    "Oh, I did not know that.", "Right, that makes sense.", "Yes, exactly.", "Hmm, I am not so sure.",
    "Ha, that is funny.", "Oh no.", "Really? Tell me more.", "That is great.", "I see what you mean.",
    "Well, maybe.", "Oh, nice.",
)

OPENERS: tuple[str, ...] = (
    "Hey, how are you doing?", "So, guess what happened {when}.", "Hi! Long time no see.",
    "Can I tell you something funny?", "So, did you hear about {thing}?", "Good to see you, how was your week?",
)

BACKCHANNELS: tuple[str, ...] = ("mm hmm", "yeah", "right", "uh huh", "okay", "I see", "sure", "hmm", "yes")
"""Short listener responses said while the partner holds the turn."""

_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: np.random.Generator) -> str:
    """Fill every ``{slot}`` of ``template`` with a random word group; capitalise the start."""
    text = _SLOT.sub(lambda m: SLOTS[m.group(1)][rng.integers(len(SLOTS[m.group(1)]))], template)
    return text[0].upper() + text[1:]


def pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    """A filled random template from ``options``."""
    return fill(options[rng.integers(len(options))], rng)


def turn_text(rng: np.random.Generator, first: bool, previous_was_question: bool, max_sentences: int = 3) -> str:
    """Text of one conversational turn (1..``max_sentences`` sentences).

    A turn after a question starts with a reaction or an answer; turns often end with a
    question, which hands the floor over.
    """
    parts: list[str] = []
    if first:
        parts.append(pick(OPENERS, rng))
    elif previous_was_question or rng.random() < 0.45:
        parts.append(pick(REACTIONS, rng))
    n_statements = int(rng.integers(1, max_sentences + 1)) - (1 if parts else 0)
    for _ in range(max(n_statements, 0 if parts else 1)):
        parts.append(pick(STATEMENTS, rng))
    if rng.random() < 0.35:
        parts.append(pick(QUESTIONS, rng))
    return " ".join(parts)
