"""server/jobs"""
