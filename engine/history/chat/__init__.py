"""The chat pane's engine: questions about recorded history answered by the LLM with store
tools (:mod:`.llm`, :mod:`.tools`) or, without it, by the offline answers (:mod:`.offline`);
:mod:`.service` puts them together and keeps each user's conversation."""

from engine.history.chat.service import (
    ChatAnswer,
    ChatHistoryRequest,
    ChatService,
    ChatTurn,
    Citation,
    RecordChatTurn,
    SeenPerson,
    read_pictures,
)

__all__ = [
    "ChatAnswer",
    "ChatHistoryRequest",
    "ChatService",
    "ChatTurn",
    "Citation",
    "RecordChatTurn",
    "SeenPerson",
    "read_pictures",
]
