"""server/orchestration"""
