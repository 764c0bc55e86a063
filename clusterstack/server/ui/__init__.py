"""server/ui"""
