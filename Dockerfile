# One image per service, built from this repository:
#   docker build --build-arg MODULE=admin-api --build-arg MAIN_CLASS=dev.metering.admin.AdminApiMain .
# docker-compose.yml builds every service this way.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
ARG MODULE
RUN ./mvnw -q -B install -DskipTests \
 && ./mvnw -q -B -pl ${MODULE} dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/app/lib \
 && cp ${MODULE}/target/${MODULE}-*.jar /app/lib/

FROM eclipse-temurin:17-jre
ARG MAIN_CLASS
ENV MAIN_CLASS=${MAIN_CLASS}
COPY --from=build /app /app
RUN useradd --system --uid 10001 metering && mkdir -p /var/lib/metering && chown metering /var/lib/metering
USER metering
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -cp '/app/lib/*' $MAIN_CLASS"]
