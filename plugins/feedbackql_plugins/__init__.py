"""FeedbackQL's built-in field and question kinds, registered through entry points like any plugin."""
