package dev.ptk.server;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

/** A request the server refuses, as the OpenAI API reports it: a status and an error body naming the field. */
final class ApiError extends RuntimeException {
  final int status;
  final String type;
  final String param;
  final String code;

  ApiError(int status, String type, String param, String code, String message) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** 400: the request is malformed or asks for what the model cannot do. */
  static ApiError invalid(String param, String message) {
    return new ApiError(400, "invalid_request_error", param, null, message);
  }

  JsonObject body() {
    JsonObject error = new JsonObject();
    error.addProperty("message", getMessage());
    error.addProperty("type", type);
    if (param == null) error.add("param", JsonNull.INSTANCE);
    else error.addProperty("param", param);
    if (code == null) error.add("code", JsonNull.INSTANCE);
    else error.addProperty("code", code);
    JsonObject body = new JsonObject();
    body.add("error", error);
    return body;
  }
}
