import os


def handler(event, context):
    return {"table": os.environ["TABLE"], "order": event.get("id")}
