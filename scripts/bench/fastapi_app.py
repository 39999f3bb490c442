"""What people build today: a FastAPI receiver for 8x8's Voice Call Action webhook.

The public 8x8 voice samples are Python web apps; this is the modern form of one, doing the
same work as bench-server's routes: parse the CALL_ACTION body into typed models (pydantic)
and answer the same callflow JSON. scripts/bench-http.sh runs it with uvicorn (uvloop and
httptools when installed), one worker, pinned to the server core:

    uvicorn fastapi_app:app --app-dir scripts/bench --port 8000 --workers 1 --no-access-log
"""

from typing import Optional

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel


class CallActionPayload(BaseModel):
    """The payload of a CALL_ACTION, every field the Rust core types."""

    eventId: str
    callId: str
    sessionId: str
    subAccountId: Optional[str] = None
    callStatus: str
    callDirection: Optional[str] = None
    callType: Optional[str] = None
    source: str
    destination: str
    sourceFormat: Optional[str] = None
    destinationFormat: Optional[str] = None
    sourceCountryCode: Optional[str] = None
    destinationCountryCode: Optional[str] = None
    destinationRefId: Optional[str] = None
    callDuration: Optional[int] = None
    sipCode: Optional[int] = None
    timestamp: Optional[str] = None


class CallActionEvent(BaseModel):
    """The envelope 8x8 POSTs."""

    namespace: Optional[str] = None
    eventType: str
    description: Optional[str] = None
    payload: CallActionPayload


# The no-op handler's answer: the same bridge bench-server's routes send, byte for byte.
REPLY = {
    "callflow": [
        {
            "action": "makeCall",
            "params": {"source": "+65987654321", "destination": "+6592220002"},
        }
    ]
}

app = FastAPI()


@app.post("/")
async def call_action(event: CallActionEvent):
    if event.eventType != "CALL_ACTION":
        raise HTTPException(status_code=400, detail="not a CALL_ACTION")
    return REPLY
