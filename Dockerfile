# One image per service, built from this repository:
#   docker build --build-arg MODULE=admin-api --build-arg MAIN_CLASS=dev.metering.admin.AdminApiMain .
# docker-compose.yml builds every service this way.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
# Dependencies and plugins first, in a layer of their own: building the poms alone (empty
# modules) downloads everything, so a change to the sources reuses this layer.
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY schemas/pom.xml schemas/
COPY schemas/src/main/avro schemas/src/main/avro
COPY api-model/pom.xml api-model/
COPY kafka-support/pom.xml kafka-support/
COPY embedded-kafka/pom.xml embedded-kafka/
COPY metering-stream/pom.xml metering-stream/
COPY alert-service/pom.xml alert-service/
COPY gateway-client/pom.xml gateway-client/
COPY admin-client/pom.xml admin-client/
COPY admin-api/pom.xml admin-api/
COPY demo-gateway/pom.xml demo-gateway/
COPY metering-local/pom.xml metering-local/
COPY bench/pom.xml bench/
RUN ./mvnw -q -B install -DskipTests
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
