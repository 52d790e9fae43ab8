"""What an operator would write instead: FastAPI, uvicorn and async SQLAlchemy.

The generated service's ``products`` endpoints (``GET /products/{id}``, ``GET /products`` with
``limit``/``offset``, ``POST /products``) over the same table (declared as the generated
SQLAlchemy cell declares it), the same envelope and the same response bytes, written the
usual FastAPI way: Pydantic models for the body and the answer, an ORM session per request,
aiosqlite or asyncpg. One uvicorn worker, no access log (the generated service writes no line
per request either). The engine has SQLAlchemy's default pool, as an operator would create it
(the generated service keeps one connection on SQLite; with the default pool concurrent
writes queue on SQLite's file lock instead, which shows in the insert's p99).

Run from the bench's reference environment: ``DATABASE_URL=... PORT=... python THIS``. It
creates the table when missing; SIGTERM stops it.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Boolean, DateTime, Integer, MetaData, Numeric, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MAX_ID = 2**31 - 1
CENT = Decimal("0.01")


def now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s"})


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    in_stock: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=now
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=now, onupdate=now
    )


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=255)]
    price: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
    in_stock: bool


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    price: Annotated[Decimal, AfterValidator(lambda value: value.quantize(CENT))]
    in_stock: bool
    created_at: Annotated[datetime, AfterValidator(as_utc)]
    updated_at: Annotated[datetime, AfterValidator(as_utc)]


def envelope(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def result(status: int, value: Any) -> Response:
    return envelope(status, {"result": value})


def standard_url(database_url: str) -> str:
    for plain, driver in (("sqlite:", "sqlite+aiosqlite:"), ("postgresql:", "postgresql+asyncpg:")):
        if database_url.startswith(plain):
            return driver + database_url.removeprefix(plain)
    return database_url


URL = standard_url(os.environ["DATABASE_URL"])
engine = create_async_engine(URL)
sessions = async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


async def session() -> AsyncIterator[AsyncSession]:
    async with sessions() as current:
        yield current


Session = Annotated[AsyncSession, Depends(session)]


@app.exception_handler(RequestValidationError)
async def invalid(request: Request, exc: RequestValidationError) -> Response:
    problems = exc.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return envelope(
            400,
            {"error": {"type": "malformed_json", "message": "The request body is not valid JSON."}},
        )
    message = "; ".join(
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
        for problem in problems
    )
    return envelope(422, {"error": {"type": "validation_error", "message": message}})


@app.exception_handler(HTTPException)
async def refused(request: Request, exc: HTTPException) -> Response:
    return envelope(exc.status_code, {"error": {"type": "not_found", "message": str(exc.detail)}})


@app.get("/products/{product_id}")
async def get_product(product_id: int, db: Session) -> Response:
    row = await db.get(Product, product_id) if 0 < product_id <= MAX_ID else None
    if row is None:
        raise HTTPException(404, f"No product with id {product_id}.")
    return result(200, ProductOut.model_validate(row).model_dump(mode="json"))


@app.get("/products")
async def list_products(
    db: Session,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    rows = await db.scalars(select(Product).order_by(Product.id).limit(limit).offset(offset))
    return result(200, [ProductOut.model_validate(row).model_dump(mode="json") for row in rows])


@app.post("/products", status_code=201)
async def create_product(body: ProductIn, db: Session) -> Response:
    row = Product(**body.model_dump())
    db.add(row)
    await db.commit()
    return result(201, ProductOut.model_validate(row).model_dump(mode="json"))


if __name__ == "__main__":
    port = int(os.environ["PORT"])
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        workers=1,
        access_log=False,
        server_header=False,
        log_level="info",
    )
