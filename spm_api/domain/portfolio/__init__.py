"""Services through their stages: commands, the stage machine and its history."""
