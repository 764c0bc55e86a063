"""server/api/commands"""
