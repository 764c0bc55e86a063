"""server/db"""
