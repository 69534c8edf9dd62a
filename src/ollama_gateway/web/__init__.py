"""HTTP glue: routes per surface, auth extraction, body limits, streaming. No wire knowledge lives here."""
