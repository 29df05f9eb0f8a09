FROM python:3.11-slim
RUN useradd --create-home --uid 10001 feedbackql
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY plugins ./plugins
COPY client ./client
RUN pip install --no-cache-dir ./client ".[parquet]"
USER feedbackql
ENV FEEDBACKQL_ENVIRONMENT=production
EXPOSE 8000
# MONGODB_URI must point at MongoDB (see docker-compose.yml).
CMD ["feedbackql", "serve", "--host", "0.0.0.0", "--port", "8000"]
